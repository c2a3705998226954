import { StaticTokenVerifier } from '@meshgate/service-kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenAuthenticator } from './tokens.js';

const authenticator = new TokenAuthenticator([
  { name: 'admin', token: 'admin-secret', roles: ['admin', 'client'] },
  { name: 'agent', token: 'agent-secret', roles: ['client'], tools: ['getUserById'] },
  { name: 'ops', token: 'ops-secret', roles: ['admin'] },
]);

afterEach(() => vi.restoreAllMocks());

describe('TokenAuthenticator', () => {
  it('names the identity of a token, with its roles and allow-list', () => {
    const agent = authenticator.authenticate('agent-secret');
    expect(agent?.name).toBe('agent');
    expect([...(agent?.roles ?? [])]).toEqual(['client']);
    expect(agent?.allowList?.allows({ service: 'user-service', upstreamName: 'getUserById', exposedName: 'getUserById' })).toBe(true);
    expect(authenticator.authenticate('admin-secret')?.allowList).toBeUndefined();
  });

  it('knows no token it was not given, nor a prefix or a case variant of one', () => {
    for (const token of ['nope', 'admin-secre', 'admin-secret ', 'ADMIN-SECRET', '']) expect(authenticator.authenticate(token)).toBeUndefined();
  });

  it('compares with every entry whether or not one matched, so timing does not tell which did', () => {
    const matches = vi.spyOn(StaticTokenVerifier.prototype, 'matches');
    for (const token of ['admin-secret', 'ops-secret', 'wrong']) {
      matches.mockClear();
      authenticator.authenticate(token);
      expect(matches, token).toHaveBeenCalledTimes(3);
    }
  });
});
