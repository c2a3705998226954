import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from './jsonrpc.js';
import { acceptsStream, isLegacyMessage, JSON_CONTENT_TYPE } from './mcp-request.js';

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
