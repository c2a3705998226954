import { listen, type RunningServer } from '@meshgate/service-kit';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGatewayAuth } from '../../auth/authenticator.js';
import { ScopeMap } from '../../auth/scopes.js';
import { Catalog } from '../../model/catalog.js';
import type { Registry } from '../../registry/registry.js';
import { createPerimeter } from '../../security/index.js';
import type { Dispatcher } from '../../session/dispatch.js';
import { SessionRegistry } from '../../session/registry.js';
import type { ModernEndpoint } from './modern.js';
import { McpPipeline } from './pipeline.js';

const logger = pino({ level: 'silent' });
const scopes = ScopeMap.parse('mcp:tools=client,mcp:admin=admin');
if (!scopes.ok) throw new Error('scope map');
const auth = createGatewayAuth({ tokens: [{ name: 'client', token: 'tok', roles: ['client'] }], scopes: scopes.value }, logger);
const registry = { catalog: Catalog.empty, list: () => [], federationMeta: () => undefined } as unknown as Registry;

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The pipeline alone on a real socket, with `dispatcher` behind it and a rate budget of `perMinute` (0: off). */
async function start(dispatcher: Partial<Dispatcher>, perMinute = 0) {
  const sessions = new SessionRegistry({}, logger);
  const perimeter = createPerimeter({
    origin: { origins: 'loopback', hosts: '*' },
    allowPrivateNetworks: true,
    rateLimitPerMinute: perMinute,
    authFailuresPerMinute: 0,
    server: { maxConnections: 100, headersTimeoutMs: 5_000, requestTimeoutMs: 5_000 },
  });
  const pipeline = new McpPipeline({
    auth,
    perimeter,
    registry,
    sessions,
    dispatcher: dispatcher as Dispatcher,
    modern: {} as ModernEndpoint,
    logger,
    maxBodyBytes: 1_024,
  });
  server = await listen({ fetch: () => new Response('not /mcp', { status: 404 }) }, { port: 0, host: '127.0.0.1', lane: pipeline.lane });
  return { url: `${server.url}/mcp`, sessions };
}

const headers = { authorization: 'Bearer tok', 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const post = (url: string, body: unknown, extra: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) });

describe('the /mcp pipeline', () => {
  it('an unexpected failure is a JSON-RPC -32603 with status 500, never the admin API shape, and the next request is served', async () => {
    let calls = 0;
    const { url } = await start({
      sessionless: async (message) => {
        calls += 1;
        if (calls === 1) throw new TypeError('a bug');
        return { jsonrpc: '2.0', id: message.id, result: {} };
      },
    });
    const failed = await post(url, { jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } });
    expect(await (await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' })).json()).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
  });

  it("a client's answer over its rate budget is refused with 429 before it is acted on", async () => {
    const take = vi.fn();
    const { url } = await start({ take }, 2);
    const init = await post(url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } });
    const session = init.headers.get('mcp-session-id') ?? '';
    const answer = { jsonrpc: '2.0', id: 'meshgate-relay-1', result: {} };
    expect((await post(url, answer, { 'mcp-session-id': session })).status).toBe(202);
    expect(take).toHaveBeenCalledTimes(1);
    const refused = await post(url, answer, { 'mcp-session-id': session });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(take).toHaveBeenCalledTimes(1);
  });

  it('initialize opens a session bound to the token; GET opens its stream once (409 the second time); DELETE ends it', async () => {
    const { url, sessions } = await start({});
    const init = await post(url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '1999-01-01', capabilities: {} } });
    const body = await init.json();
    expect(body.result).toMatchObject({ protocolVersion: '2025-11-25', serverInfo: { name: 'meshgate' }, capabilities: { tools: {} } });
    const id = init.headers.get('mcp-session-id') ?? '';
    expect(sessions.size).toBe(1);
    const stream = await fetch(url, { headers: { authorization: 'Bearer tok', accept: 'text/event-stream', 'mcp-session-id': id } });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const second = await fetch(url, { headers: { authorization: 'Bearer tok', accept: 'text/event-stream', 'mcp-session-id': id } });
    expect(second.status).toBe(409);
    expect((await fetch(url, { method: 'DELETE', headers: { authorization: 'Bearer tok', 'mcp-session-id': id } })).status).toBe(200);
    expect(sessions.size).toBe(0);
    await stream.body?.cancel();
    expect((await fetch(url, { method: 'DELETE', headers: { authorization: 'Bearer tok', 'mcp-session-id': id } })).status).toBe(404);
  });

  it('a body over the limit is 413 before it is read; GET without a session is 400; PUT, and GET of the 2026 revision, are 405 with Allow', async () => {
    const { url } = await start({});
    const big = await post(url, { jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(2_000) } });
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe(-32600);
    const get = await fetch(url, { headers: { authorization: 'Bearer tok', accept: 'text/event-stream' } });
    expect(get.status).toBe(400);
    const put = await fetch(url, { method: 'PUT', headers: { authorization: 'Bearer tok' } });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
    // The stateless 2026 revision has no session to stream from or end.
    const modernGet = await fetch(url, { headers: { authorization: 'Bearer tok', accept: 'text/event-stream', 'mcp-protocol-version': '2026-07-28' } });
    expect(modernGet.status).toBe(405);
    expect(modernGet.headers.get('allow')).toBe('POST');
  });
});
