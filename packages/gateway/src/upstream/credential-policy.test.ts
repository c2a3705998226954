import { describe, expect, it } from 'vitest';
import { CredentialPolicy, invalidValue, isReservedHeader } from './credential-policy.js';

const policy = (overrides: Partial<ConstructorParameters<typeof CredentialPolicy>[0]> = {}) =>
  new CredentialPolicy({
    allowedEnv: ['LENT', 'UPSTREAM_*'],
    ownSettings: new Set(['PORT', 'SHOPPING_SERVICE_TOKEN']),
    gatewayTokenIsClientToken: true,
    canSealSecrets: true,
    clientTokens: ['client-token'],
    env: { LENT: 'v', UPSTREAM_A: 'client-token', OTHER: 'secret', PEM: 'a\nb', SHOPPING_SERVICE_TOKEN: 's' },
    ...overrides,
  });

describe('CredentialPolicy', () => {
  it.each([
    [{ type: 'bearer', tokenEnv: 'OTHER' }, /not one registrations may reference/],
    [{ type: 'bearer', tokenEnv: 'MESHGATE_SECRET_KEY' }, /gateway's own settings/],
    [{ type: 'bearer', tokenEnv: 'SHOPPING_SERVICE_TOKEN' }, /gateway's own settings/],
    [{ type: 'gateway' }, /MESHGATE_UPSTREAM_TOKEN/],
    [{ type: 'header', header: 'Host', value: 'x' }, /cannot carry a credential/],
    [{ type: 'bearer', token: 'a b' }, /holds a space/],
  ] as const)('refuses %j in a registration', (spec, reason) => {
    const check = policy().checkRegistration(spec);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.message).toMatch(reason);
  });

  it('refuses a literal secret without a key, allows it with one, and warns when it is a client token', () => {
    expect(policy({ canSealSecrets: false }).checkRegistration({ type: 'bearer', token: 't' })).toMatchObject({ ok: false });
    expect(policy().checkRegistration({ type: 'bearer', token: 'client-token' })).toEqual({
      ok: true,
      warnings: [expect.stringMatching(/accepts from clients/)],
    });
    expect(policy().checkRegistration({ type: 'bearer', tokenEnv: 'UPSTREAM_A' })).toMatchObject({ ok: true, warnings: [expect.any(String)] });
    expect(policy().checkRegistration({ type: 'bearer', tokenEnv: 'LENT' })).toEqual({ ok: true, warnings: [] });
  });

  it("lets configured services read any variable but the gateway's own settings, and registered ones only the lent ones", () => {
    expect(policy().envFor('config')('OTHER')).toEqual({ ok: true, value: 'secret' });
    expect(policy().envFor('registered')('OTHER')).toMatchObject({ ok: false });
    expect(policy().checkConfigured({ type: 'bearer', tokenEnv: 'MCP_BEARER_TOKEN' })).toMatchObject({ ok: false });
    expect(policy().checkConfigured({ type: 'header', header: 'X-Key', valueEnv: 'PEM' })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/PEM holds a line break/),
    });
  });
});

describe('header and value checks', () => {
  it.each(['host', 'Content-Length', 'mcp-session-id', 'MCP-Protocol-Version', 'proxy-authorization', 'Meshgate-Instance', 'x-forwarded-host'])(
    '%s is reserved',
    (header) => {
      expect(isReservedHeader(header)).toBe(true);
    },
  );
  it.each(['Authorization', 'X-Api-Key', 'Cookie'])('%s is not', (header) => expect(isReservedHeader(header)).toBe(false));
  it('never quotes the value it refuses', () => {
    expect(invalidValue('secret\nvalue', 'the thing', false)).toBe(
      'the thing holds a line break (a multi-line value such as a PEM cannot be sent in a header)',
    );
    expect(invalidValue('sécret', 'the thing', false)).not.toContain('sécret');
    expect(invalidValue('fine value', 'x', false)).toBeUndefined();
  });
});
