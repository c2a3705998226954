import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from './jsonrpc.js';
import { acceptsStream, isLegacyMessage, isNotificationOrResponse, leanHeadersFit } from './mcp-request.js';

const MAX = 1_024;
const seed = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': '80' };

describe('leanHeadersFit', () => {
  it('lets through what handle would take: JSON, an acceptable Accept, a declared length within the limit', () => {
    expect(leanHeadersFit(seed, MAX)).toBe(true);
    expect(leanHeadersFit({ ...seed, accept: '*/*' }, MAX)).toBe(true);
    expect(leanHeadersFit({ ...seed, 'content-type': 'application/json; charset=utf-8', 'mcp-protocol-version': '2025-06-18' }, MAX)).toBe(true);
  });

  it('refuses what handle answers itself: no or an oversized length, another type or Accept, an unknown version', () => {
    const { 'content-length': _length, ...chunked } = seed;
    expect(leanHeadersFit(chunked, MAX)).toBe(false);
    expect(leanHeadersFit({ ...seed, 'content-length': String(MAX + 1) }, MAX)).toBe(false);
    expect(leanHeadersFit({ ...seed, 'content-type': 'text/plain' }, MAX)).toBe(false);
    expect(leanHeadersFit({ ...seed, accept: 'text/html' }, MAX)).toBe(false);
    expect(leanHeadersFit({ ...seed, 'mcp-protocol-version': '1999-01-01' }, MAX)).toBe(false);
  });

  it('asks a request to a session to accept an event stream, since its answer may stream', () => {
    expect(leanHeadersFit({ ...seed, accept: 'application/json' }, MAX)).toBe(true);
    expect(leanHeadersFit({ ...seed, accept: 'application/json', 'mcp-session-id': 's' }, MAX)).toBe(false);
    expect(leanHeadersFit({ ...seed, 'mcp-session-id': 's' }, MAX)).toBe(true);
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

describe('isNotificationOrResponse', () => {
  it('is true for notifications and answers, false for requests', () => {
    expect(isNotificationOrResponse({ jsonrpc: '2.0', method: 'notifications/cancelled' })).toBe(true);
    expect(isNotificationOrResponse({ jsonrpc: '2.0', id: 'r1', result: {} })).toBe(true);
    expect(isNotificationOrResponse({ jsonrpc: '2.0', id: 1, method: 'ping' })).toBe(false);
  });
});
