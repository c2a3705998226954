import { describe, expect, it } from 'vitest';
import { adminApiNeed, authorize, bearerChallenge, metadataUrlFor, protectedResourceMetadata, resourceUrlFor } from './metadata.js';
import { DEFAULT_SCOPE_MAP, ScopeMap, scopesOfClaims } from './scopes.js';
import type { GatewayIdentity, Role } from './tokens.js';

const scopes = (ScopeMap.parse(DEFAULT_SCOPE_MAP) as { ok: true; value: ScopeMap }).value;
const who = (...roles: Role[]): GatewayIdentity => ({ name: 'x', roles: new Set(roles) });

describe('ScopeMap', () => {
  it('maps scopes to roles and asks for the first scope of a role', () => {
    const parsed = ScopeMap.parse('mcp:tools=client, tools.read=client, mcp:admin=admin');
    expect(parsed.ok).toBe(true);
    const map = (parsed as { ok: true; value: ScopeMap }).value;
    expect([...map.rolesOf(['tools.read', 'openid'])]).toEqual(['client']);
    expect(map.scopeFor('client')).toBe('mcp:tools');
    expect(map.supported).toEqual(['mcp:tools', 'tools.read', 'mcp:admin']);
  });

  it.each(['', 'mcp:tools', 'mcp:tools=root', 'a"b=client', 'a=b=client'])('refuses %j', (text) => {
    expect(ScopeMap.parse(text).ok).toBe(false);
  });

  it('reads scope (space-separated) and scp (list) claims', () => {
    expect(scopesOfClaims({ scope: 'mcp:tools  openid' })).toEqual(['mcp:tools', 'openid']);
    expect(scopesOfClaims({ scp: ['mcp:admin', 7] })).toEqual(['mcp:admin']);
    expect(scopesOfClaims({})).toEqual([]);
  });
});

describe('protected resource metadata', () => {
  it('takes the resource from the request unless one is configured', () => {
    expect(resourceUrlFor('http://localhost:3001/.well-known/x?y', { scopes })).toBe('http://localhost:3001/mcp');
    expect(resourceUrlFor('http://10.0.0.1:3001/mcp', { scopes, resourceUrl: 'https://gw.example/mcp' })).toBe('https://gw.example/mcp');
  });

  it('puts the well-known segment between origin and path (RFC 9728 §3.1)', () => {
    expect(metadataUrlFor('https://gw.example/mcp')).toBe('https://gw.example/.well-known/oauth-protected-resource/mcp');
    expect(metadataUrlFor('https://gw.example/')).toBe('https://gw.example/.well-known/oauth-protected-resource');
    expect(metadataUrlFor('http://h:8080/a/mcp/')).toBe('http://h:8080/.well-known/oauth-protected-resource/a/mcp');
  });

  it('lists the authorization server only when JWTs are configured', () => {
    expect(protectedResourceMetadata('https://gw/mcp', { scopes })).toEqual({
      resource: 'https://gw/mcp',
      scopes_supported: ['mcp:tools', 'mcp:admin'],
      bearer_methods_supported: ['header'],
      resource_name: 'Meshgate MCP gateway',
    });
    expect(protectedResourceMetadata('https://gw/mcp', { scopes, issuer: 'https://as' })).toMatchObject({ authorization_servers: ['https://as'] });
  });
});

describe('authorize', () => {
  it('passes a caller with the role, and any role for reads', () => {
    expect(authorize(who('client'), 'client', scopes)).toEqual({ ok: true });
    expect(authorize(who('admin'), 'any', scopes)).toEqual({ ok: true });
  });

  it('names the scope a caller without the role should ask for', () => {
    expect(authorize(who('client'), 'admin', scopes)).toEqual({
      ok: false,
      scope: 'mcp:admin',
      message: 'Forbidden: this needs a token with the admin role (scope mcp:admin)',
    });
    expect(authorize(who('admin'), 'client', scopes)).toMatchObject({ ok: false, scope: 'mcp:tools' });
    expect(authorize(who(), 'any', scopes)).toMatchObject({ ok: false, scope: 'mcp:tools' });
  });

  it('reads need any role, changes need admin', () => {
    expect(
      ['GET /services', 'POST /services', 'GET /services/a', 'POST /register', 'PUT /services/a', 'DELETE /services/a', 'POST /services/a'].map((call) => {
        const [method = '', path = ''] = call.split(' ');
        return adminApiNeed(method, path);
      }),
    ).toEqual(['any', 'any', 'any', 'admin', 'admin', 'admin', 'admin']);
  });

  it('writes a challenge without the parameters that have no value', () => {
    expect(bearerChallenge({ realm: 'meshgate', error: 'insufficient_scope', scope: undefined })).toBe('Bearer realm="meshgate", error="insufficient_scope"');
  });
});
