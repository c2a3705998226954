import { describe, expect, it } from 'vitest';
import { createFixtureApp } from './http.js';

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
};

function post(body: unknown, headers: Record<string, string> = {}) {
  return new Request('http://127.0.0.1:3010/mcp', {
    method: 'POST',
    headers: { host: '127.0.0.1:3010', 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
}

describe('conformance fixture HTTP', () => {
  it('refuses a non-localhost Host (DNS rebinding) before anything else', async () => {
    const { app, close } = await createFixtureApp();
    const response = await app.fetch(post(initialize, { host: 'evil.example.com', origin: 'http://evil.example.com' }));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    await close();
  });

  it('opens a session on initialize and answers 400 to a 2025-era request without one, 404 to an unknown one', async () => {
    const { app, close } = await createFixtureApp();
    const opened = await app.fetch(post(initialize));
    expect(opened.status).toBe(200);
    expect(opened.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    await opened.body?.cancel();
    expect((await app.fetch(post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }))).status).toBe(400);
    const unknown = await app.fetch(post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-session-id': 'nope' }));
    expect(unknown.status).toBe(404);
    await close();
  });

  it('requires the Bearer token when one is configured', async () => {
    const { app, close } = await createFixtureApp({ token: 'secret' });
    expect((await app.fetch(post(initialize))).status).toBe(401);
    const allowed = await app.fetch(post(initialize, { authorization: 'Bearer secret' }));
    expect(allowed.status).toBe(200);
    await allowed.body?.cancel();
    await close();
  });
});
