import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'meshgate-config-')), 'meshgate.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('loadConfig', () => {
  it('with no environment gives the seed: port 3001, token mcp-token-123, the two services on localhost', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3001, host: '127.0.0.1', upstreamToken: 'mcp-token-123' });
    expect(config.auth.tokens).toMatchObject([{ token: 'mcp-token-123', roles: ['admin', 'client'] }]);
    expect(config.services.map((s) => [s.name, s.url])).toEqual([
      ['shopping-service', 'http://localhost:3002/mcp'],
      ['user-service', 'http://localhost:3003/mcp'],
    ]);
    expect(config.services.every((s) => s.credential.type === 'gateway' && (s.fallbackTools?.length ?? 0) === 1)).toBe(true);
  });

  it('reads the seed variables, treating empty values as unset', () => {
    const config = loadConfig({ PORT: '4001', MCP_BEARER_TOKEN: 'secret', SHOPPING_SERVICE_URL: 'http://shop:3002/mcp', USER_SERVICE_URL: '', HOST: '' });
    expect(config).toMatchObject({ port: 4001, host: '127.0.0.1', upstreamToken: 'secret' });
    expect(config.auth.tokens[0]?.token).toBe('secret');
    expect(config.services[0]?.url).toBe('http://shop:3002/mcp');
    expect(config.services[1]?.url).toBe('http://localhost:3003/mcp');
  });

  it('gives each default service its own token variable when set', () => {
    const config = loadConfig({ SHOPPING_SERVICE_TOKEN: 'shop-secret' });
    expect(config.services[0]?.credential).toEqual({ type: 'bearer', tokenEnv: 'SHOPPING_SERVICE_TOKEN' });
    expect(config.services[1]?.credential).toEqual({ type: 'gateway' });
  });

  it('reads command services from the config file, with defaults: no args, no env, one shared process', () => {
    const path = configFile({
      services: [
        {
          name: 'files',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv'],
          env: { API_KEY: 'k' },
          cwd: '/srv',
          stdio: 'per-session',
        },
        { name: 'bare', command: '/usr/local/bin/mcp-thing' },
        { name: 'web', url: 'http://web:3000/mcp' },
      ],
    });
    const config = loadConfig({ MESHGATE_CONFIG: path });
    expect(config.services).toEqual([
      {
        name: 'files',
        command: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv'], env: { API_KEY: 'k' }, cwd: '/srv', stdio: 'per-session' },
        credential: { type: 'none' },
      },
      { name: 'bare', command: { command: '/usr/local/bin/mcp-thing', args: [], env: {}, stdio: 'shared' }, credential: { type: 'none' } },
      { name: 'web', url: 'http://web:3000/mcp', credential: { type: 'gateway' } },
    ]);
    expect(config.allowStdioRegistration).toBe(false);
    expect(loadConfig({ MESHGATE_ALLOW_STDIO_REGISTRATION: 'true' }).allowStdioRegistration).toBe(true);
  });

  it('refuses a service with both a url and a command, a credential on a command, an empty command or a bad policy, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ name: 'both', url: 'http://x:1/mcp', command: 'x' }, /config\.services\.0: Unrecognized key: "url"/],
      [{ name: 'cred', command: 'x', credential: { none: true } }, /config\.services\.0: Unrecognized key: "credential"/],
      [{ name: 'empty', command: '' }, /config\.services\.0\.command: is empty/],
      [{ name: 'policy', command: 'x', stdio: 'sometimes' }, /config\.services\.0\.stdio: .*"shared"\|"per-session"/],
      [{ name: 'env', command: 'x', env: { 'BAD-NAME': 'v' } }, /config\.services\.0\.env\.BAD-NAME: Invalid key in record/],
      [{ name: 'typo', comand: 'x' }, /Unrecognized key: "comand"/],
    ];
    for (const [service, message] of cases) {
      expect(() => loadConfig({ MESHGATE_CONFIG: configFile({ services: [service] }) })).toThrow(message);
    }
  });

  it('rejects a bad port or URL with the variable named', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/env\.PORT/);
    expect(() => loadConfig({ USER_SERVICE_URL: 'ftp://x' })).toThrow(ConfigError);
  });

  it('takes services from MESHGATE_CONFIG instead of the defaults, with credentials and fallbacks', () => {
    const path = configFile({
      services: [
        { name: 'billing', url: 'https://billing.internal/mcp', credential: { bearerEnv: 'BILLING_TOKEN' } },
        {
          name: 'search',
          url: 'http://search:8080/mcp',
          credential: { header: 'X-Api-Key', valueEnv: 'SEARCH_KEY' },
          fallbackTools: [{ name: 'find', inputSchema: { type: 'object' } }],
        },
      ],
    });
    const config = loadConfig({ MESHGATE_CONFIG: path });
    expect(config.services).toEqual([
      { name: 'billing', url: 'https://billing.internal/mcp', credential: { type: 'bearer', tokenEnv: 'BILLING_TOKEN' } },
      {
        name: 'search',
        url: 'http://search:8080/mcp',
        credential: { type: 'header', header: 'X-Api-Key', valueEnv: 'SEARCH_KEY' },
        fallbackTools: [{ name: 'find', inputSchema: { type: 'object' } }],
      },
    ]);
  });

  it('explains what is wrong with a config file', () => {
    expect(() => loadConfig({ MESHGATE_CONFIG: '/nonexistent/meshgate.json' })).toThrow(/cannot read config file/);
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile('{not json') })).toThrow(/cannot read config file/);
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile({ services: [{ name: 'Bad Name', url: 'http://x' }] }) })).toThrow(/config\.services\.0\.name/);
    expect(() =>
      loadConfig({
        MESHGATE_CONFIG: configFile({
          services: [
            { name: 'a', url: 'http://x' },
            { name: 'a', url: 'http://y' },
          ],
        }),
      }),
    ).toThrow(/listed twice/);
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile({ servics: [] }) })).toThrow(/servics/);
  });

  it('reads tool surface settings per service and gateway-wide, and names a mistake in them', () => {
    const overrides = { echo: { name: 'say', annotations: { readOnlyHint: true } }, slow: { hidden: true } };
    const service = { name: 'a', url: 'http://x/mcp', overrides, pin: 'withhold', hygiene: { strip: true } };
    const config = loadConfig({ MESHGATE_CONFIG: configFile({ services: [service, { name: 'b', url: 'http://y/mcp' }] }), MESHGATE_PIN_TOOLS: 'serve-pinned' });
    expect(config.services[0]?.surface).toEqual({ overrides, pin: 'withhold', hygiene: { strip: true } });
    expect(config.services[1]).not.toHaveProperty('surface');
    expect(config.surface).toEqual({ pin: 'serve-pinned', strip: false, flag: true });
    const bad = (extra: object) => () => loadConfig({ MESHGATE_CONFIG: configFile({ services: [{ name: 'a', url: 'http://x/mcp', ...extra }] }) });
    expect(bad({ overrides: { echo: { name: 'has space' } } })).toThrow(/config\.services\.0\.overrides\.echo\.name: must be 1 to 64 letters/);
    expect(bad({ overrides: { echo: { rename: 'x' } } })).toThrow(/rename/);
    expect(bad({ pin: 'always' })).toThrow(/config\.services\.0\.pin/);
    expect(() => loadConfig({ MESHGATE_PIN_TOOLS: 'yes' })).toThrow(/env\.MESHGATE_PIN_TOOLS/);
  });

  it('reads virtual servers from the config file, naming a bad entry, a bad selector or a name listed twice', () => {
    const config = loadConfig({ MESHGATE_CONFIG: configFile({ virtualServers: [{ name: 'support', tools: ['getUserById', 'crm__*'], mode: 'search' }] }) });
    expect(config.virtualServers).toEqual([{ name: 'support', tools: ['getUserById', 'crm__*'], mode: 'search' }]);
    expect(loadConfig({ MESHGATE_CONFIG: configFile({ services: [] }) }).virtualServers).toEqual([]);
    const twice = {
      virtualServers: [
        { name: 'a', tools: [] },
        { name: 'a', tools: [] },
      ],
    };
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile(twice) })).toThrow(/virtual server "a" is listed twice/);
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile({ virtualServers: [{ name: 'a', tools: ['@'] }] }) })).toThrow(
      /config\.virtualServers\.0\.tools\.0: selector "@" is not an annotation selector/,
    );
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile({ virtualServers: [{ name: 'a', tools: [], mode: 'fast' }] }) })).toThrow(/virtualServers\.0\.mode/);
    // A token's allow-list takes the same selectors, checked the same way.
    const token = { tokens: [{ name: 't', token: 'secret-token-1', roles: ['client'], tools: ['@bad key'] }] };
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile(token) })).toThrow(/selector "@bad key"/);
  });

  it('holds config-file services to the MCP schema and the credential rules', () => {
    const badFallback = { name: 'a', url: 'http://x', fallbackTools: [{ name: 't', inputSchema: { type: 'object', properties: 5 } }] };
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile({ services: [badFallback] }) })).toThrow(/service "a": fallback tool "t": inputSchema\.properties/);
    const own = { name: 'a', url: 'http://x', credential: { bearerEnv: 'MCP_BEARER_TOKEN' } };
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile({ services: [own] }) })).toThrow(/MCP_BEARER_TOKEN is one of the gateway's own settings/);
    const host = { name: 'a', url: 'http://x', credential: { header: 'Host', value: 'evil' } };
    expect(() => loadConfig({ MESHGATE_CONFIG: configFile({ services: [host] }) })).toThrow(/header Host cannot carry a credential/);
    expect(() => loadConfig({ MESHGATE_SECRET_KEY: 'short' })).toThrow(/MESHGATE_SECRET_KEY: must be 32 bytes/);
    expect(() => loadConfig({ MESHGATE_CREDENTIAL_ENV: 'MCP_BEARER_TOKEN' })).toThrow(/cannot be lent to registrations/);
  });

  it('warns when a configured service is sent a token clients also present, and not otherwise', () => {
    // The seed's setup: both configured services warned about, and the public default token itself.
    expect(loadConfig({}).credentials.warnings).toHaveLength(3);
    expect(loadConfig({}).credentials.warnings[2]).toMatch(/runs on the public default token/);
    expect(loadConfig({}).credentials.gatewayTokenForRegistered).toBe(true);
    // One shared token that is a secret: registered services are lent nothing.
    const secret = loadConfig({ MCP_BEARER_TOKEN: 'a-real-secret' });
    expect(secret.credentials.warnings).toHaveLength(2);
    expect(secret.credentials.gatewayTokenForRegistered).toBe(false);
    expect(secret.credentials.policy.registrationDefault()).toEqual({ type: 'none' });
    expect(loadConfig({}).credentials.policy.registrationDefault()).toEqual({ type: 'gateway' });
    const separate = loadConfig({ MESHGATE_UPSTREAM_TOKEN: 'upstream-only' });
    expect(separate.credentials.warnings).toEqual([]);
    expect(separate.credentials.gatewayTokenForRegistered).toBe(true);
  });
});
