/**
 * Case 1: no Authorization, a Basic scheme, an empty Bearer, a wrong token: 401 with
 * `WWW-Authenticate: Bearer ...` naming the protected resource metadata; the backend is
 * never called. (Constant-time comparison: auth/tokens.test.ts and service-kit's bearer tests.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthMesh, startAuthMesh, TOKENS } from './auth-fixture.js';
import { callBody, expectAlive, postMcp } from './harness.js';

let mesh: AuthMesh;
beforeAll(async () => {
  mesh = await startAuthMesh();
});
afterAll(() => mesh?.close());

const variants: [string, Record<string, string>, boolean][] = [
  ['no Authorization header', { authorization: '' }, false],
  ['a Basic scheme', { authorization: `Basic ${Buffer.from(`admin:${TOKENS.admin}`).toString('base64')}` }, true],
  ['an empty Bearer', { authorization: 'Bearer ' }, true],
  ['a wrong token', { authorization: 'Bearer mcp-token-124' }, true],
  ['the default seed token, which configured tokens replace', { authorization: 'Bearer mcp-token-123' }, true],
  ['a valid token with a different case', { authorization: `Bearer ${TOKENS.admin.toUpperCase()}` }, true],
];

describe('case 1: requests without a valid token get 401 and reach no backend', () => {
  it.each(variants)('%s on /mcp: 401, JSON-RPC -32001, a Bearer challenge with resource_metadata', async (_, headers, invalidToken) => {
    const before = mesh.backend.toolCalls();
    const answer = await postMcp(mesh.gateway, callBody('lookup'), headers);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001, message: expect.stringMatching(/^Unauthorized: /) } });
    const challenge = answer.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer realm="meshgate"/);
    expect(challenge).toContain(`resource_metadata="${mesh.gateway.url}/.well-known/oauth-protected-resource/mcp"`);
    expect(challenge.includes('error="invalid_token"')).toBe(invalidToken);
    expect(mesh.backend.toolCalls()).toBe(before);
    await expectAlive(mesh.gateway);
  });

  it.each(variants)('%s on the admin API: 401 with the REST error body', async (_, headers) => {
    for (const [method, path] of [
      ['GET', '/services'],
      ['POST', '/services'],
      ['POST', '/register'],
      ['DELETE', '/services/recorder'],
      ['GET', '/stats'],
      ['GET', '/whoami'],
    ]) {
      const response = await fetch(`${mesh.gateway.url}${path}`, { method, headers });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'unauthorized' });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*resource_metadata="/);
    }
    expect((await (await fetch(`${mesh.gateway.url}/health`)).json()).services.recorder.status).toBe('up');
    await expectAlive(mesh.gateway);
  });

  it('the 401 names no token and no backend', async () => {
    const answer = await postMcp(mesh.gateway, callBody('lookup'), { authorization: 'Bearer guess-123' });
    expect(answer.text).not.toContain('guess-123');
    expect(answer.text).not.toContain(mesh.backend.url);
  });
});
