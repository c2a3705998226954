/**
 * The Host lows of the second hostile-input round (docs/security.md, "Round two"):
 * - a request with two `Host` headers was served (node keeps the first); RFC 9112 §3.2
 *   says a server must answer 400, on `/mcp`, the admin API and the well-known metadata;
 * - an absolute-form request target (`POST http://evil.example/mcp`) was reflected into
 *   `WWW-Authenticate` and the protected resource metadata. Those URLs are built from the
 *   configured resource URL or the checked Host header, never from the request target.
 */
import { describe, expect, it } from 'vitest';
import { TOKEN } from '../helpers/mesh.js';
import { expectAlive, rawExchange, recordingGateway, statusOf } from './harness.js';

const context = recordingGateway();
const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

function request(target: string, headers: string[], method = 'POST', payload = body): string {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers, 'connection: close'];
  if (method === 'POST') lines.push('content-type: application/json', `content-length: ${Buffer.byteLength(payload)}`);
  return `${lines.join('\r\n')}\r\n\r\n${method === 'POST' ? payload : ''}`;
}

describe('Host header', () => {
  it.each([
    ['/mcp', 'POST'],
    ['/services', 'GET'],
    ['/.well-known/oauth-protected-resource/mcp', 'GET'],
  ])('two Host headers on %s are 400, and nothing reaches the backend', async (path, method) => {
    const { gateway, backend } = context;
    const before = backend.caused().length;
    const raw = await rawExchange(gateway.port, [
      request(path, [`host: 127.0.0.1:${gateway.port}`, 'host: evil.example', `authorization: Bearer ${TOKEN}`], method),
    ]);
    expect(statusOf(raw.text)).toBe(400);
    expect(raw.text).toMatch(/more than one Host header/);
    expect(backend.caused().length).toBe(before);
    await expectAlive(gateway);
  });

  it('an absolute-form target on /mcp is not reflected into WWW-Authenticate', async () => {
    const { gateway } = context;
    const raw = await rawExchange(gateway.port, [request('http://evil.example/mcp', [`host: 127.0.0.1:${gateway.port}`])]);
    expect(statusOf(raw.text)).toBe(401);
    expect(raw.text).toMatch(new RegExp(`resource_metadata="http://127\\.0\\.0\\.1:${gateway.port}/\\.well-known/oauth-protected-resource/mcp"`));
    expect(raw.text).not.toMatch(/evil\.example/);
  });

  it('an absolute-form target on the admin API is not reflected into WWW-Authenticate', async () => {
    const { gateway } = context;
    const raw = await rawExchange(gateway.port, [request('http://evil.example/services', [`host: 127.0.0.1:${gateway.port}`], 'GET')]);
    expect(statusOf(raw.text)).toBe(401);
    expect(raw.text).toMatch(/resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
    expect(raw.text).not.toMatch(/evil\.example/);
  });

  it('an absolute-form target is not reflected into the protected resource metadata', async () => {
    const { gateway } = context;
    const raw = await rawExchange(gateway.port, [
      request('http://evil.example/.well-known/oauth-protected-resource/mcp', [`host: 127.0.0.1:${gateway.port}`], 'GET'),
    ]);
    expect(statusOf(raw.text)).toBe(200);
    expect(raw.text).toContain(`"resource":"http://127.0.0.1:${gateway.port}/mcp"`);
    expect(raw.text).not.toMatch(/evil\.example/);
  });
});
