import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  classifyInboundRequest,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
} from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from './jsonrpc.js';
import { acceptsStream, classifyMessage, isLegacyMessage, JSON_CONTENT_TYPE } from './mcp-request.js';

describe('JSON_CONTENT_TYPE', () => {
  it('takes application/json and +json types, with parameters; not json-seq, jsonl or text/json', () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'APPLICATION/JSON'])
      expect(JSON_CONTENT_TYPE.test(type), type).toBe(true);
    for (const type of ['application/json-seq', 'application/jsonl', 'text/json', 'application/x-json-stream'])
      expect(JSON_CONTENT_TYPE.test(type), type).toBe(false);
  });
});

describe('acceptsStream', () => {
  it('allows an event stream when named, by a wildcard, or when Accept is absent', () => {
    for (const accept of [null, '', 'text/event-stream', '*/*', 'text/*', 'application/json, text/event-stream;q=0.9'])
      expect(acceptsStream(accept), String(accept)).toBe(true);
    for (const accept of ['application/json', 'text/html', 'application/*']) expect(acceptsStream(accept), accept).toBe(false);
  });
});

describe('isLegacyMessage (the SDK classifier, from headers and the message)', () => {
  const call = (meta: Record<string, unknown>): JsonRpcMessage => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't', _meta: meta } });

  it('a 2025 request with a progress token is legacy', () => {
    expect(isLegacyMessage(call({ progressToken: 'p' }), { 'mcp-protocol-version': '2025-06-18' })).toBe(true);
    expect(isLegacyMessage(call({ progressToken: 'p' }), {})).toBe(true);
  });

  it('a request in the 2026-07-28 envelope is not', () => {
    const envelope = { [PROTOCOL_VERSION_META_KEY]: '2026-07-28', [CLIENT_INFO_META_KEY]: { name: 'c', version: '1' }, [CLIENT_CAPABILITIES_META_KEY]: {} };
    expect(isLegacyMessage(call(envelope), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 't' })).toBe(false);
  });
});

describe('classifyMessage (remembered decisions)', () => {
  const MODERN = '2026-07-28';
  const envelope = { [PROTOCOL_VERSION_META_KEY]: MODERN, [CLIENT_INFO_META_KEY]: { name: 'c', version: '1' }, [CLIENT_CAPABILITIES_META_KEY]: {} };
  const metas: Array<Record<string, unknown> | undefined | string> = [
    undefined,
    envelope,
    { ...envelope, [LOG_LEVEL_META_KEY]: 'debug' },
    { ...envelope, [LOG_LEVEL_META_KEY]: 'loud' },
    { ...envelope, [CLIENT_CAPABILITIES_META_KEY]: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
    { ...envelope, [CLIENT_CAPABILITIES_META_KEY]: 'all' },
    { ...envelope, [CLIENT_INFO_META_KEY]: { name: 'c' } },
    { [PROTOCOL_VERSION_META_KEY]: MODERN },
    { ...envelope, [PROTOCOL_VERSION_META_KEY]: 20260728 },
    { ...envelope, [PROTOCOL_VERSION_META_KEY]: '2025-11-25' },
    { ...envelope, 'io.modelcontextprotocol/related-task': { taskId: 'x' } },
    { ...envelope, 'io.modelcontextprotocol/related-task': { taskId: 7 } },
    { progressToken: 'p' },
    { progressToken: 3 },
    { progressToken: 1.5 },
    { progressToken: true },
    { ...envelope, progressToken: 'p' },
    { ...envelope, progressToken: 4 },
    'not an object',
  ];
  const versions = [undefined, MODERN, ` ${MODERN}\t`, '2025-11-25', '2025-06-18', 'bogus'];
  const methods = ['tools/call', 'tools/list', 'server/discover', 'initialize'];

  /** A request and its twin: another id and progress token of the same kind, another Mcp-Name, other params besides `_meta`. */
  function pair(version: string | undefined, method: string, methodHeader: string | undefined, meta: unknown, id: unknown, extra?: Record<string, unknown>) {
    const make = (twin: boolean) => {
      const token = (meta as { progressToken?: unknown } | undefined)?.progressToken;
      const twinToken = typeof token === 'string' ? `${token}-2` : Number.isSafeInteger(token) ? (token as number) + 10 : token;
      const ownMeta = meta !== null && typeof meta === 'object' && twin && token !== undefined ? { ...meta, progressToken: twinToken } : meta;
      const params = meta === undefined ? (twin ? { name: 'other', arguments: { a: 1 } } : { name: 't' }) : { name: twin ? 'other' : 't', _meta: ownMeta };
      const twinId = typeof id === 'string' ? `${id}-2` : Number.isSafeInteger(id) ? (id as number) + 1 : id;
      const message = { jsonrpc: '2.0', id: twin ? twinId : id, method, params, ...extra } as unknown as JsonRpcMessage;
      const headers: Record<string, string> = {};
      if (version !== undefined) headers['mcp-protocol-version'] = version;
      if (methodHeader !== undefined) headers['mcp-method'] = methodHeader;
      headers['mcp-name'] = twin ? 'other' : 't';
      return { message, headers };
    };
    return [make(false), make(true)] as const;
  }

  function sdk(message: JsonRpcMessage, headers: Record<string, string>) {
    return classifyInboundRequest({
      httpMethod: 'POST',
      body: message,
      ...(headers['mcp-protocol-version'] === undefined ? {} : { protocolVersionHeader: headers['mcp-protocol-version'] }),
      ...(headers['mcp-method'] === undefined ? {} : { mcpMethodHeader: headers['mcp-method'] }),
      mcpNameHeader: headers['mcp-name'],
    });
  }

  it('decides every request as the SDK does, the second of a kind too (from the remembered decision)', () => {
    let compared = 0;
    const kinds = new Set<string>();
    for (const version of versions)
      for (const method of methods)
        for (const methodHeader of [undefined, method, 'tools/list'])
          for (const meta of metas)
            for (const id of [1, 'a', 1.5, null])
              for (const extra of [undefined, { extra: true }]) {
                const [first, twin] = pair(version, method, methodHeader, meta, id, extra);
                const expectedFirst = sdk(first.message, first.headers);
                expect(classifyMessage(first.message, first.headers)).toEqual(expectedFirst);
                const expectedTwin = sdk(twin.message, twin.headers);
                const got = classifyMessage(twin.message, twin.headers);
                expect(got, JSON.stringify({ version, method, methodHeader, meta, id, extra })).toEqual(expectedTwin);
                if (got.kind === 'modern') expect(got.message).toBe(twin.message);
                kinds.add(got.kind);
                compared += 1;
              }
    // The corpus reaches every outcome: remembered ones (modern, legacy) and refusals (never remembered).
    expect([...kinds].sort()).toEqual(['legacy', 'modern', 'reject']);
    expect(compared).toBeGreaterThan(5000);
  });

  it('a remembered decision cannot be changed by a caller', () => {
    const [first, twin] = pair(MODERN, 'tools/call', 'tools/call', envelope, 1);
    classifyMessage(first.message, first.headers);
    const outcome = classifyMessage(twin.message, twin.headers);
    expect(outcome.kind).toBe('modern');
    if (outcome.kind !== 'modern') return;
    expect(Object.isFrozen(outcome.classification)).toBe(true);
    expect(outcome.classification.revision).toBe(MODERN);
  });

  it('a remembered envelope is a copy: changing the request later changes no decision', () => {
    const [first, twin] = pair(MODERN, 'tools/call', 'tools/call', { ...envelope, [CLIENT_INFO_META_KEY]: { name: 'mutable', version: '1' } }, 1);
    expect(classifyMessage(first.message, first.headers).kind).toBe('modern');
    // The first request's envelope is changed in place into one the SDK refuses; its twin still has the valid one.
    ((first.message as unknown as { params: { _meta: Record<string, unknown> } }).params._meta[CLIENT_INFO_META_KEY] as Record<string, unknown>)['name'] = 7;
    expect(classifyMessage(twin.message, twin.headers)).toEqual(sdk(twin.message, twin.headers));
    const [broken] = pair(MODERN, 'tools/call', 'tools/call', { ...envelope, [CLIENT_INFO_META_KEY]: { name: 7, version: '1' } }, 2);
    expect(classifyMessage(broken.message, broken.headers)).toEqual(sdk(broken.message, broken.headers));
  });

  it('envelopes that differ only in member order, or past the size kept, are decided as the SDK decides', () => {
    const reordered = { [CLIENT_CAPABILITIES_META_KEY]: {}, [CLIENT_INFO_META_KEY]: { version: '1', name: 'c' }, [PROTOCOL_VERSION_META_KEY]: MODERN };
    const large = { ...envelope, [CLIENT_INFO_META_KEY]: { name: 'c', version: '1', description: 'x'.repeat(5_000) } };
    for (const meta of [envelope, reordered, large, { ...large, [PROTOCOL_VERSION_META_KEY]: '2025-11-25' }]) {
      const [first, twin] = pair(MODERN, 'tools/call', 'tools/call', meta, 1);
      expect(classifyMessage(first.message, first.headers)).toEqual(sdk(first.message, first.headers));
      expect(classifyMessage(twin.message, twin.headers)).toEqual(sdk(twin.message, twin.headers));
    }
  });
});
