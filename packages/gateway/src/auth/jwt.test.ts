import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUER, startTestIssuer, type TestIssuer } from '../../../../test/helpers/jwks.js';
import { identityOf, JwtVerifier, looksLikeJwt } from './jwt.js';
import { DEFAULT_SCOPE_MAP, ScopeMap } from './scopes.js';

const AUDIENCE = 'https://gw.example/mcp';
const scopes = (ScopeMap.parse(DEFAULT_SCOPE_MAP) as { ok: true; value: ScopeMap }).value;

let issuer: TestIssuer;
let verifier: JwtVerifier;

beforeAll(async () => {
  issuer = await startTestIssuer(AUDIENCE);
  verifier = new JwtVerifier({ jwksUrl: issuer.jwksUrl, issuer: ISSUER, audience: AUDIENCE, scopes, toolsClaim: 'mcp_tools' });
});
afterAll(() => issuer.close());

describe('JwtVerifier', () => {
  it('accepts a valid token and maps its scopes to roles', async () => {
    const result = await verifier.verify(await issuer.sign({ scope: 'mcp:tools openid' }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.identity.name).toBe('jwt:alice');
    expect([...result.identity.roles]).toEqual(['client']);
    expect(result.identity.allowList).toBeUndefined();
  });

  it('accepts an audience list that contains the gateway', async () => {
    expect((await verifier.verify(await issuer.sign({ scope: 'mcp:admin' }, { audience: ['other', AUDIENCE] }))).ok).toBe(true);
  });

  it.each([
    ['expired', { expiresIn: -120 }, /expired/],
    ['for another audience', { audience: 'https://other.example/mcp' }, /claim "aud"/],
    ['from another issuer', { issuer: 'https://evil.example' }, /claim "iss"/],
    ['signed with another key', { key: 'stranger' as const }, /signature/],
  ])('refuses a token %s', async (_, options, reason) => {
    const result = await verifier.verify(await issuer.sign({ scope: 'mcp:tools' }, options));
    expect(result).toMatchObject({ ok: false, serverFault: false });
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('gives a token without a known scope no role (the HTTP layer answers 403)', async () => {
    const result = await verifier.verify(await issuer.sign({ scope: 'openid profile' }));
    expect(result.ok && result.identity.roles.size).toBe(0);
  });

  it('refuses a token without a subject, and an unsigned one', async () => {
    expect((await verifier.verify(await issuer.sign({ sub: undefined }))).ok).toBe(false);
    const payload = (await issuer.sign({ scope: 'mcp:tools' })).split('.')[1];
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    expect((await verifier.verify(unsigned)).ok).toBe(false);
  });

  it('reads the tool allow-list claim and binds the identity name to it', async () => {
    const one = await verifier.verify(await issuer.sign({ scope: 'mcp:tools', mcp_tools: ['getUserById'] }));
    const other = await verifier.verify(await issuer.sign({ scope: 'mcp:tools', mcp_tools: 'getProductById' }));
    expect(one.ok && other.ok).toBe(true);
    if (!one.ok || !other.ok) return;
    expect(one.identity.allowList?.allows({ service: 'user-service', upstreamName: 'getUserById', exposedName: 'getUserById' })).toBe(true);
    expect(one.identity.name).toMatch(/^jwt:alice#[0-9a-f]{12}$/);
    expect(one.identity.name).not.toBe(other.identity.name);
    expect((await verifier.verify(await issuer.sign({ scope: 'mcp:tools', mcp_tools: 42 }))).ok).toBe(false);
  });

  it("reports an unreachable JWKS as the gateway's fault", async () => {
    const offline = new JwtVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: ISSUER, audience: AUDIENCE, scopes });
    expect(await offline.verify(await issuer.sign({ scope: 'mcp:tools' }))).toMatchObject({ ok: false, serverFault: true });
  });

  it('tells JWTs from opaque tokens by shape', () => {
    expect(looksLikeJwt('mcp-token-123')).toBe(false);
    expect(looksLikeJwt('a.b.c')).toBe(true);
    expect(looksLikeJwt('a.b.')).toBe(false);
  });

  it('keeps subjects apart from the fingerprint: a subject holding "#" is percent-encoded', () => {
    const withTools = identityOf('alice', new Set(['client']), ['lookup']);
    const [, fingerprint] = withTools.name.split('#');
    const imitation = identityOf(`alice#${fingerprint}`, new Set(['client']), undefined);
    expect(imitation.name).toBe(`jwt:alice%23${fingerprint}`);
    expect(imitation.name).not.toBe(withTools.name);
  });
});
