/**
 * Finding 11 of the second hostile-input round (docs/security.md, "Round two"): the
 * session cap and idle time could not be configured. The caps per identity and in all
 * are covered by session-caps.test.ts; this pins that MESHGATE_SESSION_IDLE_MS is the
 * idle time used: a session left alone past it is closed (404), and its place in its
 * token's share is given back.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/mesh.js';
import { postMcp, recordingGateway } from './harness.js';

const context = recordingGateway({ MESHGATE_SESSION_IDLE_MS: '1000', MESHGATE_MAX_SESSIONS_PER_IDENTITY: '1', MESHGATE_MAX_SESSIONS: '10' });
const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'idle', version: '1' } },
});
const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });

describe('MESHGATE_SESSION_IDLE_MS', () => {
  it('a session idle past it is closed, and its place in the per-token share comes back', async () => {
    const opened = await postMcp(context.gateway, initialize);
    const session = opened.headers.get('mcp-session-id') ?? '';
    expect(session).not.toBe('');
    expect((await postMcp(context.gateway, initialize)).status).toBe(503); // the token's share (1) is taken
    // Asking for the session would restart its idle clock: wait for its place instead.
    await eventually('the idle session gives its place back', async () => (await postMcp(context.gateway, initialize)).status === 200);
    expect((await postMcp(context.gateway, list, { 'mcp-session-id': session })).status).toBe(404);
  });
});
