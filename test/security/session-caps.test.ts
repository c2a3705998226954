/**
 * The session table: one token opening sessions in a loop must not lock every other
 * identity out. MESHGATE_MAX_SESSIONS_PER_IDENTITY caps one token's share (503 with
 * Retry-After, too_many_sessions), MESHGATE_MAX_SESSIONS the whole table, and a session
 * ended with DELETE gives its place back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/process.js';
import { type AuthMesh, startAuthMesh, TOKENS } from './auth-fixture.js';
import { expectAlive, postMcp } from './harness.js';

let mesh: AuthMesh;
beforeAll(async () => {
  mesh = await startAuthMesh({ MESHGATE_MAX_SESSIONS_PER_IDENTITY: '3', MESHGATE_MAX_SESSIONS: '5', MESHGATE_SESSION_IDLE_MS: '600000' });
});
afterAll(async () => {
  await mesh?.close();
  await stopAll();
});

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'caps', version: '1' } },
});
const open = (token: string) => postMcp(mesh.gateway, initialize, { authorization: `Bearer ${token}` });

describe('session caps', () => {
  it('one token gets its share and no more; other tokens still open sessions; DELETE gives a place back', async () => {
    const mine = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await open(TOKENS.alice);
      expect(answer.status).toBe(200);
      mine.push(answer.headers.get('mcp-session-id') ?? '');
    }
    const refused = await open(TOKENS.alice);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32001, message: expect.stringContaining('open sessions') } });

    expect((await open(TOKENS.bob)).status).toBe(200);

    const ended = await fetch(`${mesh.gateway.url}/mcp`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKENS.alice}`, 'mcp-session-id': mine[0] ?? '' },
    });
    expect(ended.status).toBe(200);
    expect((await open(TOKENS.alice)).status).toBe(200);
    await expectAlive(mesh.gateway);
  });

  it('the whole table is capped too', async () => {
    // alice holds 3 and bob 1 from above: one place is left in a table of 5.
    expect((await open(TOKENS.admin)).status).toBe(200);
    const full = await open(TOKENS.admin);
    expect(full.status).toBe(503);
    expect(full.body.error.message).toMatch(/Too many open sessions/);
  });
});
