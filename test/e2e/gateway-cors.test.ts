/**
 * CORS on /mcp and the admin API, over real HTTP against a gateway process: an allowed
 * page's preflight is answered before authentication; a refused page gets 403 and no CORS
 * headers; actual answers to an allowed page (401 included) let it read the session id,
 * the protocol version and the auth challenge; requests without Origin get no CORS headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyConfig } from '../helpers/faults.js';
import { startGateway, TOKEN } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';
let gateway: StartedProcess;

beforeAll(async () => {
  gateway = await startGateway({ MESHGATE_CONFIG: emptyConfig(), MESHGATE_ALLOWED_ORIGINS: APP });
});
afterAll(async () => {
  await gateway?.stop();
});

function preflight(path: string, origin: string, method = 'POST', requestHeaders = 'authorization, content-type, mcp-session-id, mcp-protocol-version') {
  return fetch(`${gateway.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders },
  });
}

function corsHeadersOf(response: Response): string[] {
  return [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'browser', version: '1' } },
});

describe('CORS', () => {
  it('answers a preflight to /mcp from an allowed origin with 204 and the allowed methods and headers, without a token', async () => {
    const response = await preflight('/mcp', APP, 'POST', 'authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id, mcp-param-region');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE');
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
    for (const name of ['authorization', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'mcp-param-region']) {
      expect(allowed).toContain(name);
    }
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(response.headers.get('vary')).toMatch(/Origin/);
    expect(await response.text()).toBe('');
  });

  it('refuses a preflight from an origin that is not allowed with 403 and no CORS headers, on /mcp and the admin API', async () => {
    for (const path of ['/mcp', '/services', '/sessions']) {
      const response = await preflight(path, EVIL);
      expect(response.status).toBe(403);
      expect(corsHeadersOf(response)).toEqual([]);
    }
  });

  it('lets an allowed page read an authenticated answer: Allow-Origin is its origin (never *), Vary: Origin, the session headers exposed', async () => {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { origin: APP, authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: initialize,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBeTruthy();
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('vary')).toMatch(/Origin/);
    const exposed = (response.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    for (const name of ['mcp-session-id', 'mcp-protocol-version', 'www-authenticate']) expect(exposed).toContain(name);
  });

  it('puts the CORS headers on a 401 too, so the page can read WWW-Authenticate and find the authorization metadata', async () => {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*resource_metadata=/);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
  });

  it('refuses an actual POST from a foreign page with 403 and no CORS headers, as before', async () => {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { origin: EVIL, authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(403);
    expect(corsHeadersOf(response)).toEqual([]);
  });

  it('serves the admin API to an allowed page: preflight for PUT without a token, then the answer and its 401 with CORS headers', async () => {
    const pre = await preflight('/services/some-service', APP, 'PUT', 'authorization, content-type');
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, DELETE');
    expect(pre.headers.get('access-control-allow-origin')).toBe(APP);
    const listed = await fetch(`${gateway.url}/services`, { headers: { origin: APP, authorization: `Bearer ${TOKEN}` } });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(listed.headers.get('vary')).toMatch(/Origin/);
    const refused = await fetch(`${gateway.url}/services`, { headers: { origin: APP } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
    expect(refused.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
  });

  it('adds no CORS headers to requests without Origin (curl, SDK clients, services)', async () => {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(200);
    expect(corsHeadersOf(response)).toEqual([]);
    // OPTIONS that is not a CORS preflight is just a method /mcp does not take (after authentication, as before).
    expect((await fetch(`${gateway.url}/mcp`, { method: 'OPTIONS' })).status).toBe(401);
    expect((await fetch(`${gateway.url}/mcp`, { method: 'OPTIONS', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  });
});
