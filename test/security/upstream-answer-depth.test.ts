/**
 * Finding 6 of the second hostile-input round (docs/security.md, "Round two"): a backend
 * answer nested 10,000 levels deep parsed fine but overflowed the stack once walked
 * (serialised for the client); the request then failed after the call had been sent,
 * and the client got a 500 or an empty 200. Now answers are held to the same nesting
 * bound as client input: the client gets a clear JSON-RPC error naming the service,
 * on every path (sessionless, in a session, the 2026-07-28 revision), and the backend
 * ran the call exactly once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileBackend, startHostileBackend } from '../fixtures/hostile-backend.js';
import { startGateway, TOKEN, tempDbPath, waitUntilUp } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive, postMcp } from './harness.js';

let backend: HostileBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  backend = await startHostileBackend();
  const dbPath = tempDbPath();
  const config = join(dbPath, '..', 'meshgate.json');
  writeFileSync(config, JSON.stringify({ services: [{ name: 'hostile', url: `${backend.url}/mcp` }] }));
  gateway = await startGateway({ MESHGATE_CONFIG: config, MESHGATE_DB_PATH: dbPath });
  await waitUntilUp(gateway.url, ['hostile']);
});
afterAll(async () => {
  await stopAll();
  await backend?.close();
});

const call = (name: string, id = 1, params: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {}, ...params } });

function expectDepthError(body: any, id: number) {
  expect(body).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32013 } });
  expect(body.error.message).toContain('Service "hostile"');
  expect(body.error.message).toMatch(/deeper than \d+ levels/);
}

describe('upstream answers nested 10,000 deep', () => {
  it('sessionless: a JSON-RPC error naming the service, and the backend ran the call once', async () => {
    const before = backend.calls()['deep'] ?? 0;
    const answer = await postMcp(gateway, call('deep'));
    expectDepthError(answer.body, 1);
    expect(backend.calls()['deep']).toBe(before + 1);
    await expectAlive(gateway);
  });

  it('in a session, answered as an event: the same error, in the session, once', async () => {
    const init = await postMcp(
      gateway,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'deep', version: '1' } },
      }),
    );
    const session = init.headers.get('mcp-session-id') ?? '';
    expect(session).not.toBe('');
    const before = backend.calls()['deep_sse'] ?? 0;
    const answer = await postMcp(gateway, call('deep_sse', 7), { 'mcp-session-id': session, accept: 'application/json, text/event-stream' });
    expect(answer.status).toBe(200);
    const body = answer.headers.get('content-type')?.startsWith('text/event-stream') ? JSON.parse(answer.text.split('data: ')[1] ?? '') : answer.body;
    expectDepthError(body, 7);
    expect(backend.calls()['deep_sse']).toBe(before + 1);
  });

  it('the 2026-07-28 revision: a JSON-RPC error naming the service, once', async () => {
    const before = backend.calls()['deep'] ?? 0;
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'deep', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const answer = await postMcp(gateway, call('deep', 9, { _meta: meta }), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'deep',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${TOKEN}`,
    });
    const body = answer.headers.get('content-type')?.startsWith('text/event-stream') ? JSON.parse(answer.text.split('data: ')[1] ?? '') : answer.body;
    expect(body?.error?.message ?? answer.text).toContain('Service "hostile"');
    expect(body.error.message).toMatch(/deeper than \d+ levels/);
    expect(backend.calls()['deep']).toBe(before + 1);
    await expectAlive(gateway);
  });
});
