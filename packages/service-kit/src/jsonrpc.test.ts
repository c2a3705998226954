import { describe, expect, it } from 'vitest';
import { exceedsJsonDepth, JSONRPC_INVALID_REQUEST, JSONRPC_PARSE_ERROR, jsonRpcError, parseJsonRpcMessage } from './jsonrpc.js';

describe('parseJsonRpcMessage', () => {
  it('answers a body that is not JSON with parse error -32700 and id null', () => {
    expect(parseJsonRpcMessage('{x')).toMatchObject({ ok: false, code: JSONRPC_PARSE_ERROR, id: null });
  });

  it('refuses a batch with -32600 and says batches are not supported', () => {
    const result = parseJsonRpcMessage('[{"jsonrpc":"2.0","id":1,"method":"ping"}]');
    expect(result).toMatchObject({ ok: false, code: JSONRPC_INVALID_REQUEST, id: null });
    expect(result.ok || result.message).toMatch(/batch/i);
  });

  it.each([
    ['an empty object', '{}', null],
    ['a JSON string', '"x"', null],
    ['a JSON number', '42', null],
    ['null', 'null', null],
    ['jsonrpc "1.0"', '{"jsonrpc":"1.0","id":1,"method":"ping"}', 1],
    ['a missing method', '{"jsonrpc":"2.0","id":7}', 7],
    ['an empty method', '{"jsonrpc":"2.0","id":"a","method":""}', 'a'],
    ['a non-string method', '{"jsonrpc":"2.0","id":1,"method":5}', 1],
    ['an object id', '{"jsonrpc":"2.0","id":{"n":1},"method":"ping"}', null],
    ['a request id of null', '{"jsonrpc":"2.0","id":null,"method":"ping"}', null],
    ['array params', '{"jsonrpc":"2.0","id":2,"method":"ping","params":[1]}', 2],
  ])('refuses %s with invalid request -32600, echoing a usable id', (_label, body, id) => {
    expect(parseJsonRpcMessage(body)).toMatchObject({ ok: false, code: JSONRPC_INVALID_REQUEST, id });
  });

  it('recognises a notification: a method and no id', () => {
    const result = parseJsonRpcMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    expect(result).toEqual({ ok: true, kind: 'notification', message: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  });

  it('recognises a response: a result or an error with an id', () => {
    expect(parseJsonRpcMessage('{"jsonrpc":"2.0","id":3,"result":{}}')).toMatchObject({ ok: true, kind: 'response' });
    const error = '{"jsonrpc":"2.0","id":"r","error":{"code":-1,"message":"no"}}';
    expect(parseJsonRpcMessage(error)).toMatchObject({ ok: true, kind: 'response' });
  });

  it.each([
    ['a number id', 1],
    ['a string id', 'abc'],
    ['id zero', 0],
  ])('recognises a request with %s and keeps its params', (_label, id) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'x' } });
    expect(parseJsonRpcMessage(body)).toEqual({
      ok: true,
      kind: 'request',
      message: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'x' } },
    });
  });
});

describe('jsonRpcError', () => {
  it('omits data when there is none and includes it when given', () => {
    expect(jsonRpcError(1, -32603, 'Internal error')).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32603, message: 'Internal error' },
    });
    expect(jsonRpcError(null, -32602, 'bad', { field: 'id' }).error).toEqual({ code: -32602, message: 'bad', data: { field: 'id' } });
  });
});

describe('exceedsJsonDepth', () => {
  it.each([
    ['flat object', '{"a":1}', 1, false],
    ['exactly at the limit', '[[[]]]', 3, false],
    ['one past the limit', '[[[[]]]]', 3, true],
    ['brackets inside strings do not count', '{"a":"[[[[[[{{{{"}', 1, false],
    ['escaped quotes keep the string open', '{"a":"\\"[[[[["}', 1, false],
    ['siblings do not add up', '[[],[],[],[]]', 2, false],
  ])('%s', (_what, text, max, expected) => {
    expect(exceedsJsonDepth(text, max)).toBe(expected);
  });

  it('rejects a million levels quickly, before any parse', () => {
    const text = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    const started = performance.now();
    const result = parseJsonRpcMessage(text);
    expect(performance.now() - started).toBeLessThan(50);
    expect(result).toMatchObject({ ok: false, code: JSONRPC_PARSE_ERROR, id: null });
    expect(result.ok || result.message).toMatch(/deeper than 128/);
  });
});
