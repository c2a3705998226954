import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'meshgate-auth-')), 'meshgate.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const tokens = (value: unknown) => ({ MESHGATE_TOKENS: JSON.stringify(value) });
const jwt = { MESHGATE_JWT_JWKS_URL: 'https://auth.example/jwks', MESHGATE_JWT_ISSUER: 'https://auth.example' };

describe('authentication configuration', () => {
  it('with nothing configured accepts only the default token, with both roles', () => {
    expect(loadConfig({}).auth.tokens).toEqual([{ name: 'default', token: 'mcp-token-123', roles: ['admin', 'client'] }]);
    expect(loadConfig({ MCP_BEARER_TOKEN: 's3cret' }).auth.tokens[0]?.token).toBe('s3cret');
  });

  it('configured tokens replace the default token; file and MESHGATE_TOKENS add up', () => {
    const path = configFile({ tokens: [{ name: 'ops', tokenEnv: 'OPS_TOKEN', roles: ['admin'] }] });
    const config = loadConfig({
      MESHGATE_CONFIG: path,
      OPS_TOKEN: 'ops-secret',
      ...tokens([{ name: 'agent', token: 'agent-secret', roles: ['client'], tools: ['getUserById'] }]),
    });
    expect(config.auth.tokens).toEqual([
      { name: 'ops', token: 'ops-secret', roles: ['admin'] },
      { name: 'agent', token: 'agent-secret', roles: ['client'], tools: ['getUserById'] },
    ]);
  });

  it('keeps the default token when it is listed by its variable', () => {
    const config = loadConfig({ MCP_BEARER_TOKEN: 'seed', ...tokens([{ name: 'default', tokenEnv: 'MCP_BEARER_TOKEN', roles: ['admin', 'client'] }]) });
    expect(config.auth.tokens.map((entry) => entry.token)).toEqual(['seed']);
  });

  it('keeps the default token by its variable when the variable is unset (the README tip, as written)', () => {
    const config = loadConfig(tokens([{ name: 'default', tokenEnv: 'MCP_BEARER_TOKEN', roles: ['admin', 'client'] }]));
    expect(config.auth.tokens.map((entry) => entry.token)).toEqual(['mcp-token-123']);
  });

  it('JWTs alone turn the default token off', () => {
    const config = loadConfig({ ...jwt, MESHGATE_RESOURCE_URL: 'https://gw.example/mcp' });
    expect(config.auth.tokens).toEqual([]);
    expect(config.auth.jwt).toEqual({ jwksUrl: 'https://auth.example/jwks', issuer: 'https://auth.example', audience: 'https://gw.example/mcp' });
  });

  it.each([
    ['invalid JSON', { MESHGATE_TOKENS: '[{"name":"a","token":"leak-me-not" x' }, /MESHGATE_TOKENS: is not valid JSON/],
    ['no roles', tokens([{ name: 'a', token: 't', roles: [] }]), /MESHGATE_TOKENS\.0\.roles/],
    ['an unknown role', tokens([{ name: 'a', token: 't', roles: ['root'] }]), /MESHGATE_TOKENS\.0\.roles/],
    ['token and tokenEnv', tokens([{ name: 'a', token: 't', tokenEnv: 'T', roles: ['client'] }]), /exactly one of "token" or "tokenEnv"/],
    ['an unset tokenEnv', tokens([{ name: 'a', tokenEnv: 'NOPE', roles: ['client'] }]), /token "a": the variable NOPE is not set/],
    [
      'a duplicate name',
      tokens([
        { name: 'a', token: 'x', roles: ['client'] },
        { name: 'a', token: 'y', roles: ['client'] },
      ]),
      /"a" is listed twice/,
    ],
    ['a name like a JWT subject', tokens([{ name: 'jwt:alice', token: 'x', roles: ['client'] }]), /MESHGATE_TOKENS\.0\.name/],
    ['an empty list and no JWTs', tokens([]), /nobody could call the gateway/],
    [
      'a JWKS without issuer',
      { MESHGATE_JWT_JWKS_URL: 'https://auth.example/jwks', MESHGATE_RESOURCE_URL: 'https://gw/mcp' },
      /MESHGATE_JWT_ISSUER: is required/,
    ],
    ['a JWKS without audience', jwt, /MESHGATE_JWT_AUDIENCE: set it or MESHGATE_RESOURCE_URL/],
    ['an issuer without JWKS', { MESHGATE_JWT_ISSUER: 'https://auth.example' }, /MESHGATE_JWT_ISSUER: is set but MESHGATE_JWT_JWKS_URL is not/],
    ['a bad scope map', { ...jwt, MESHGATE_JWT_AUDIENCE: 'gw', MESHGATE_JWT_SCOPES: 'mcp:tools=root' }, /MESHGATE_JWT_SCOPES: "mcp:tools=root"/],
  ])('refuses %s with a message naming the setting', (_, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never quotes a secret in a configuration error', () => {
    const messages: string[] = [];
    const attempts = [
      { MESHGATE_TOKENS: '[{"name":"a","token":"leak-me-not" x' },
      { MESHGATE_TOKENS: 'leak-me-not' },
      tokens([
        { name: 'a', token: 'leak-me-not', roles: ['client'] },
        { name: 'b', token: 'leak-me-not', roles: ['client'] },
      ]),
      { MESHGATE_CONFIG: configFile('{"tokens":[{"name":"a","token":"leak-me-not"} x') },
      { MESHGATE_CONFIG: configFile('leak-me-not') },
    ];
    for (const env of attempts) {
      try {
        loadConfig(env);
      } catch (error) {
        messages.push((error as Error).message);
      }
    }
    expect(messages).toHaveLength(attempts.length);
    expect(messages.join('\n')).not.toContain('leak-me-not');
    expect(messages[2]).toContain('tokens "a" and "b" have the same secret');
  });
});
