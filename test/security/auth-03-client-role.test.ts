/**
 * Case 3: a client-role token on /register or a deregistration (or an update): 403 with
 * `error="insufficient_scope"`; it may still use /mcp and read /services. An admin-only
 * token is the mirror image: it manages services but gets 403 on /mcp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthMesh, startAuthMesh, TOKENS } from './auth-fixture.js';
import { callBody, expectAlive, postMcp } from './harness.js';

let mesh: AuthMesh;
beforeAll(async () => {
  mesh = await startAuthMesh();
});
afterAll(() => mesh?.close());

const call = (method: string, path: string, token: string, body?: unknown) =>
  fetch(`${mesh.gateway.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('case 3: a client-role token cannot change the registry', () => {
  it.each([
    ['POST', '/register', { name: 'intruder', url: 'http://127.0.0.1:9/mcp' }],
    ['PUT', '/services/recorder', { url: 'http://127.0.0.1:9/mcp' }],
    ['DELETE', '/services/recorder', undefined],
  ])('%s %s: 403 forbidden, insufficient_scope for mcp:admin, nothing changes', async (method, path, body) => {
    const seenBefore = mesh.backend.seen.length;
    const response = await call(method, path, TOKENS.alice, body);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: 'forbidden', message: 'Forbidden: this needs a token with the admin role (scope mcp:admin)' });
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="mcp:admin"');
    expect(challenge).toContain(`resource_metadata="${mesh.gateway.url}/.well-known/oauth-protected-resource/mcp"`);

    const listed = (await (await call('GET', '/services', TOKENS.admin)).json()) as { services: { name: string; url: string }[] };
    expect(listed.services.map((service) => [service.name, service.url])).toEqual([['recorder', `${mesh.backend.url}/mcp`]]);
    // Only the gateway's own probes may have reached the backend meanwhile.
    expect(mesh.backend.seen.slice(seenBefore).every((entry) => !entry.body.includes('initialize'))).toBe(true);
    await expectAlive(mesh.gateway);
  });

  it("the same token reads /services (GET and the seed's POST) and one service", async () => {
    for (const [method, path] of [
      ['GET', '/services'],
      ['POST', '/services'],
      ['GET', '/services/recorder'],
    ] as const) {
      expect((await call(method, path, TOKENS.alice)).status, `${method} ${path}`).toBe(200);
    }
  });

  it('the same token uses /mcp', async () => {
    const answer = await postMcp(mesh.gateway, callBody('lookup'), { authorization: `Bearer ${TOKENS.alice}` });
    expect(answer.status).toBe(200);
    expect(answer.body.result.structuredContent).toMatchObject({ tool: 'lookup' });
  });
});

describe('an admin-only token manages services but calls no tools', () => {
  it('gets 403, JSON-RPC -32001 and insufficient_scope for mcp:tools on /mcp; the backend sees no call', async () => {
    const before = mesh.backend.toolCalls();
    const answer = await postMcp(mesh.gateway, callBody('lookup'), { authorization: `Bearer ${TOKENS.ops}` });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001, message: expect.stringContaining('client role') } });
    expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="mcp:tools"');
    expect(mesh.backend.toolCalls()).toBe(before);
    await expectAlive(mesh.gateway);
  });

  it('passes authorization on the admin API: reads, and gets to validation on /register', async () => {
    expect((await call('GET', '/services', TOKENS.ops)).status).toBe(200);
    const response = await call('POST', '/register', TOKENS.ops, { name: 'Not A Name', url: 'http://127.0.0.1:9' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_body' });
  });
});
