/**
 * JWT access tokens through a real gateway process, checked against a real JWKS server:
 * a valid token works; expired, wrong audience, wrong issuer and wrong key are 401
 * `invalid_token`; a token without the needed scope is 403 `insufficient_scope`. Static
 * tokens keep working beside JWTs, and no JWT ever reaches the backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUER, startTestIssuer, type TestIssuer } from '../helpers/jwks.js';
import { type AuthMesh, authorizationsSeen, sessionClient, startAuthMesh, TOKENS, UPSTREAM_TOKEN } from './auth-fixture.js';
import { callBody, expectAlive, postMcp } from './harness.js';

const RESOURCE = 'https://meshgate.test/mcp';
let issuer: TestIssuer;
let mesh: AuthMesh;
const used: string[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer(RESOURCE);
  mesh = await startAuthMesh({
    MESHGATE_JWT_JWKS_URL: issuer.jwksUrl,
    MESHGATE_JWT_ISSUER: ISSUER,
    MESHGATE_RESOURCE_URL: RESOURCE,
    MESHGATE_JWT_TOOLS_CLAIM: 'mcp_tools',
  });
});
afterAll(async () => {
  await mesh?.close();
  await issuer?.close();
});

async function withJwt(...args: Parameters<TestIssuer['sign']>) {
  const token = await issuer.sign(...args);
  used.push(token);
  return { authorization: `Bearer ${token}` };
}

describe('JWT access tokens', () => {
  it("a valid token with mcp:tools lists and calls tools; the backend gets the gateway's credential", async () => {
    const headers = await withJwt({ scope: 'mcp:tools' });
    const list = await postMcp(mesh.gateway, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), headers);
    expect(list.status).toBe(200);
    expect(list.body.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['lookup', 'erase']);
    const call = await postMcp(mesh.gateway, callBody('lookup', { id: '9' }), headers);
    expect(call.body.result.structuredContent).toEqual({ from: 'recorder', tool: 'lookup', id: '9' });
  });

  it.each([
    ['expired', { expiresIn: -120 }],
    ['issued for another audience', { audience: 'https://other.test/mcp' }],
    ['issued for the bare origin instead of the resource', { audience: 'https://meshgate.test' }],
    ['from another issuer', { issuer: 'https://evil.test' }],
    ['signed with another key', { key: 'stranger' as const }],
  ])('a token %s: 401 invalid_token with resource_metadata; the backend sees nothing', async (_, options) => {
    const before = mesh.backend.toolCalls();
    const answer = await postMcp(mesh.gateway, callBody('lookup'), await withJwt({ scope: 'mcp:tools' }, options));
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe(-32001);
    const challenge = answer.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="invalid_token"');
    expect(challenge).toContain('resource_metadata="https://meshgate.test/.well-known/oauth-protected-resource/mcp"');
    expect(mesh.backend.toolCalls()).toBe(before);
    await expectAlive(mesh.gateway);
  });

  it('a token without a mapped scope: 403 insufficient_scope asking for mcp:tools', async () => {
    const answer = await postMcp(mesh.gateway, callBody('lookup'), await withJwt({ scope: 'openid profile' }));
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ id: null, error: { code: -32001 } });
    expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="mcp:tools"');
  });

  it('mcp:tools may read /services but not register: 403 asking for mcp:admin; mcp:admin may', async () => {
    const client = await withJwt({ scope: 'mcp:tools' });
    expect((await fetch(`${mesh.gateway.url}/services`, { headers: client })).status).toBe(200);
    const denied = await fetch(`${mesh.gateway.url}/services/recorder`, { method: 'DELETE', headers: client });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toContain('scope="mcp:admin"');
    const admin = await withJwt({ scope: 'mcp:admin' });
    const invalid = await fetch(`${mesh.gateway.url}/register`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: '{}' });
    expect(invalid.status).toBe(400);
  });

  it('the tools claim is an allow-list, also in a session', async () => {
    const headers = await withJwt({ scope: 'mcp:tools', mcp_tools: ['lookup'] });
    const list = await postMcp(mesh.gateway, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), headers);
    expect(list.body.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['lookup']);
    expect((await postMcp(mesh.gateway, callBody('erase'), headers)).body.error.code).toBe(-32602);
    const client = await sessionClient(mesh.gateway, headers.authorization.slice('Bearer '.length));
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['lookup']);
    } finally {
      await client.close();
    }
  });

  it('static tokens are accepted beside JWTs', async () => {
    expect((await postMcp(mesh.gateway, callBody('lookup'), { authorization: `Bearer ${TOKENS.alice}` })).status).toBe(200);
  });

  it('no JWT reached the backend or the logs, and the JWKS was fetched once', () => {
    expect([...authorizationsSeen(mesh.backend)]).toEqual([`Bearer ${UPSTREAM_TOKEN}`]);
    const seen = JSON.stringify(mesh.backend.seen);
    const output = mesh.gateway.output();
    for (const token of used) {
      expect(seen).not.toContain(token);
      expect(output).not.toContain(token);
    }
    expect(issuer.fetches).toBe(1);
  });
});
