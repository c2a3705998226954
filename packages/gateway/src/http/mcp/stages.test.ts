import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createGatewayAuth } from '../../auth/authenticator.js';
import { ScopeMap } from '../../auth/scopes.js';
import { createPerimeter } from '../../security/index.js';
import { authenticateStage, authorizeStage, corsStage, eraStage, framingStage, methodStage, perimeterStage, type Stage, sessionIdStage } from './stages.js';

const scopes = ScopeMap.parse('mcp:tools=client,mcp:admin=admin');
if (!scopes.ok) throw new Error('scope map');
const auth = createGatewayAuth(
  {
    tokens: [
      { name: 'client', token: 'client-token', roles: ['client'] },
      { name: 'admin-only', token: 'admin-token', roles: ['admin'] },
    ],
    scopes: scopes.value,
  },
  pino({ level: 'silent' }),
);
const perimeter = createPerimeter({
  origin: { origins: 'loopback', hosts: ['localhost', '127.0.0.1'] },
  allowPrivateNetworks: true,
  rateLimitPerMinute: 0,
  authFailuresPerMinute: 0,
  server: { maxConnections: 10, headersTimeoutMs: 1_000, requestTimeoutMs: 1_000 },
});

function refusal<T>(stage: Stage<T> | Promise<Stage<T>>) {
  if (stage instanceof Promise) throw new Error('expected a settled stage');
  if (stage.ok) throw new Error('expected a refusal');
  return stage.error;
}

describe('cors', () => {
  it('adds nothing for a request without Origin', () => {
    expect(corsStage(perimeter, 'POST', { host: 'localhost' })).toBeUndefined();
    expect(corsStage(perimeter, 'OPTIONS', { host: 'localhost', 'access-control-request-method': 'POST' })).toBeUndefined();
  });

  it("answers an allowed page's preflight whole, and gives its other requests the response headers", () => {
    const preflight = corsStage(perimeter, 'OPTIONS', { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' });
    expect(preflight).toMatchObject({
      preflight: true,
      headers: { 'access-control-allow-origin': 'http://localhost:5173', 'access-control-allow-methods': 'GET, POST, DELETE' },
    });
    const actual = corsStage(perimeter, 'POST', { origin: 'http://localhost:5173' });
    expect(actual).toMatchObject({ preflight: false, headers: { 'access-control-allow-origin': 'http://localhost:5173', vary: 'Origin' } });
  });
});

describe('perimeter', () => {
  it('passes a loopback Host without Origin and refuses a foreign Host or Origin with 403', () => {
    expect(perimeterStage(perimeter, { host: '127.0.0.1:3001' }, ['Host', '127.0.0.1:3001']).ok).toBe(true);
    expect(refusal(perimeterStage(perimeter, { host: 'evil.example:3001' }, ['Host', 'evil.example:3001']))).toMatchObject({ code: 'forbidden', status: 403 });
    expect(refusal(perimeterStage(perimeter, { host: 'localhost', origin: 'http://evil.example' }, ['Host', 'localhost'])).message).toContain('Origin');
  });

  it('refuses a request with two Host headers with 400 (RFC 9112 §3.2), whichever node kept', () => {
    const twice = ['Host', '127.0.0.1:3001', 'host', 'evil.example'];
    expect(refusal(perimeterStage(perimeter, { host: '127.0.0.1:3001' }, twice))).toMatchObject({ code: 'duplicate_host', status: 400 });
  });
});

describe('authenticate and authorize', () => {
  it('a missing token is 401 with a challenge naming the metadata, without error="invalid_token"', () => {
    const error = refusal(authenticateStage(auth, { host: 'localhost:3001' }));
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, rpcCode: -32001 });
    expect(error.headers?.['www-authenticate']).toBe(
      'Bearer realm="meshgate", resource_metadata="http://localhost:3001/.well-known/oauth-protected-resource/mcp"',
    );
  });

  it('a wrong token is 401 with error="invalid_token"; a Basic scheme too', () => {
    expect(refusal(authenticateStage(auth, { authorization: 'Bearer nope' })).headers?.['www-authenticate']).toContain('error="invalid_token"');
    expect(refusal(authenticateStage(auth, { authorization: 'Basic abc' })).message).toMatch(/^Unauthorized: /);
  });

  it('a valid token gives its identity at once (no promise for static tokens)', () => {
    const stage = authenticateStage(auth, { authorization: 'Bearer client-token' });
    expect(stage).toMatchObject({ ok: true, value: { name: 'client' } });
  });

  it('an admin-only token is 403 insufficient_scope on /mcp, naming the scope to ask for', () => {
    const identity = { name: 'admin-only', roles: new Set(['admin'] as const) };
    const error = refusal(authorizeStage(auth, identity, { host: 'localhost' }));
    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
    expect(error.headers?.['www-authenticate']).toContain('error="insufficient_scope", scope="mcp:tools"');
  });
});

describe('method and framing', () => {
  const json = { 'content-type': 'application/json' };
  it.each([
    ['PUT', json, 'method_not_allowed', 405],
    ['POST', { 'content-type': 'text/plain' }, 'unsupported_media_type', 415],
    ['POST', { 'content-type': 'application/json-seq' }, 'unsupported_media_type', 415],
    ['POST', { ...json, accept: 'text/html' }, 'not_acceptable', 406],
    ['GET', { accept: 'application/json' }, 'not_acceptable', 406],
  ])('%s with %o is %s (%i)', (method, headers, code, status) => {
    expect(refusal(methodStage(method, headers))).toMatchObject({ code, status });
  });

  it('passes JSON with parameters and +json types, and any Accept that allows JSON or a stream', () => {
    expect(methodStage('POST', { 'content-type': 'application/json; charset=utf-8', accept: '*/*' }).ok).toBe(true);
    expect(methodStage('POST', { 'content-type': 'application/vnd.api+json' }).ok).toBe(true);
  });

  it('bad JSON is a parse error (-32700, id null); a framing error keeps the id it could read', () => {
    expect(refusal(framingStage('{nope')).toRpc()).toMatchObject({ id: null, error: { code: -32700 } });
    expect(refusal(framingStage('{"jsonrpc":"1.0","id":4,"method":"ping"}')).toRpc()).toMatchObject({ id: 4, error: { code: -32600 } });
    expect(refusal(framingStage('[{"jsonrpc":"2.0","id":1,"method":"ping"}]')).message).toContain('batches');
  });
});

describe('era and session', () => {
  const ping = { jsonrpc: '2.0' as const, id: 1, method: 'ping' };
  it('a 2025 request is legacy; an unknown version header is refused naming the supported ones', () => {
    expect(eraStage('POST', { 'mcp-protocol-version': '2025-06-18' }, ping)).toEqual({ ok: true, value: 'legacy' });
    expect(refusal(eraStage('POST', { 'mcp-protocol-version': '1999-01-01' }, ping)).message).toContain('2025-06-18');
  });

  it('a request of the 2026-07-28 revision is modern', () => {
    const modern = {
      jsonrpc: '2.0' as const,
      id: 1,
      method: 'tools/list',
      params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
    };
    expect(eraStage('POST', { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }, modern)).toEqual({ ok: true, value: 'modern' });
  });

  it('GET and DELETE of a revision the gateway does not speak in sessions are 405 with Allow: POST; a 2025 one passes', () => {
    for (const method of ['GET', 'DELETE'] as const) {
      const error = refusal(eraStage(method, { 'mcp-protocol-version': '2026-07-28' }, undefined));
      expect(error).toMatchObject({ code: 'method_not_allowed', status: 405, headers: { allow: 'POST' } });
      expect(eraStage(method, { 'mcp-protocol-version': '2025-11-25' }, undefined)).toEqual({ ok: true, value: 'legacy' });
    }
  });

  it('one Mcp-Session-Id header or none; two are refused', () => {
    expect(sessionIdStage({ 'mcp-session-id': 'abc' })).toEqual({ ok: true, value: 'abc' });
    expect(sessionIdStage({})).toEqual({ ok: true, value: undefined });
    expect(refusal(sessionIdStage({ 'mcp-session-id': ['a', 'b'] as unknown as string }))).toMatchObject({ code: 'invalid_request' });
  });
});
