/**
 * `GET /sessions` (admin): the open client sessions as the session registry holds them,
 * with a short id prefix only, the identity, protocol version, client name and version,
 * times and calls in flight; a client-role token is refused.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyConfig } from '../helpers/faults.js';
import { api, startGateway } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';

const ADMIN = 'ops-secret-token-1';
const DESK = 'desk-secret-token-1';
let gateway: StartedProcess;

beforeAll(async () => {
  gateway = await startGateway({
    MESHGATE_CONFIG: emptyConfig(),
    MESHGATE_TOKENS: JSON.stringify([
      { name: 'ops', token: ADMIN, roles: ['admin'] },
      { name: 'desk', token: DESK, roles: ['client'] },
    ]),
  });
});
afterAll(async () => {
  await gateway?.stop();
});

describe('GET /sessions', () => {
  it('lists a session an SDK client holds open, without its full id, and forgets it once the client ends it', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${DESK}` } } });
    const client = new Client({ name: 'sessions-test-client', version: '4.5.6' });
    await client.connect(transport);
    try {
      const sessionId = transport.sessionId;
      expect(sessionId).toBeTruthy();
      const listed = await api(gateway.url, 'GET', '/sessions', undefined, ADMIN);
      expect(listed.status).toBe(200);
      expect(listed.body.sessions).toHaveLength(1);
      const [session] = listed.body.sessions;
      expect(session).toMatchObject({
        identity: 'desk',
        protocolVersion: transport.protocolVersion,
        client: { name: 'sessions-test-client', version: '4.5.6' },
        callsInFlight: 0,
      });
      expect(sessionId!.startsWith(session.id)).toBe(true);
      expect(session.id.length).toBeLessThan(sessionId!.length);
      expect(JSON.stringify(listed.body)).not.toContain(sessionId!);
      expect(JSON.stringify(listed.body)).not.toContain(DESK);
      expect(Date.parse(session.createdAt)).toBeLessThanOrEqual(Date.parse(session.lastActiveAt));
    } finally {
      await transport.terminateSession();
      await client.close();
    }
    expect((await api(gateway.url, 'GET', '/sessions', undefined, ADMIN)).body.sessions).toEqual([]);
  });

  it('is admin-only: a client token gets 403, no token 401', async () => {
    expect((await api(gateway.url, 'GET', '/sessions', undefined, DESK)).status).toBe(403);
    expect((await api(gateway.url, 'GET', '/sessions', undefined, null)).status).toBe(401);
  });
});
