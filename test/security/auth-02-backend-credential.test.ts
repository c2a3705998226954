/**
 * Case 2: a valid call reaches the backend with the gateway's own credential for it, never
 * with the client's token, on the sessionless path and through a session alike. No
 * secret shows in /services or in the gateway's logs (debug level included).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthMesh, authorizationsSeen, sessionClient, startAuthMesh, TOKENS, UPSTREAM_TOKEN } from './auth-fixture.js';
import { callBody, expectAlive, postMcp } from './harness.js';

let mesh: AuthMesh;
beforeAll(async () => {
  mesh = await startAuthMesh({ LOG_LEVEL: 'debug' });
});
afterAll(() => mesh?.close());

describe("case 2: the backend receives the gateway's credential, never the client's token", () => {
  it('a sessionless tools/call is served with the upstream token', async () => {
    const before = mesh.backend.seen.length;
    const answer = await postMcp(mesh.gateway, callBody('lookup', { id: '7' }), { authorization: `Bearer ${TOKENS.alice}` });
    expect(answer.status).toBe(200);
    expect(answer.body.result.structuredContent).toEqual({ from: 'recorder', tool: 'lookup', id: '7' });
    const call = mesh.backend.seen.slice(before).find((entry) => entry.body.includes('"tools/call"'));
    expect(call?.headers.authorization).toBe(`Bearer ${UPSTREAM_TOKEN}`);
    await expectAlive(mesh.gateway);
  });

  it('a call through a session is served with the upstream token', async () => {
    const client = await sessionClient(mesh.gateway, TOKENS.bob);
    try {
      const result = await client.callTool({ name: 'lookup', arguments: { id: '8' } });
      expect(result.structuredContent).toEqual({ from: 'recorder', tool: 'lookup', id: '8' });
    } finally {
      await client.close();
    }
    await expectAlive(mesh.gateway);
  });

  it('no request the backend ever saw carried a client token', () => {
    expect(mesh.backend.toolCalls()).toBeGreaterThanOrEqual(2);
    expect([...authorizationsSeen(mesh.backend)]).toEqual([`Bearer ${UPSTREAM_TOKEN}`]);
    // The rest are the gateway's health probes (GET /health, open, no body).
    expect(mesh.backend.seen.filter((entry) => entry.headers.authorization === undefined).every((entry) => entry.method === 'GET' && entry.body === '')).toBe(
      true,
    );
    const everything = JSON.stringify(mesh.backend.seen);
    for (const token of Object.values(TOKENS)) expect(everything).not.toContain(token);
  });

  it('neither /services nor the logs show a client token or the upstream credential', async () => {
    const services = await fetch(`${mesh.gateway.url}/services`, { headers: { authorization: `Bearer ${TOKENS.admin}` } });
    expect(services.status).toBe(200);
    const text = await services.text();
    const output = mesh.gateway.output();
    expect(output).toContain('"tokenNames"');
    for (const secret of [...Object.values(TOKENS), UPSTREAM_TOKEN]) {
      expect(text).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
  });
});
