import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from './errors.js';
import { configFilePath, normalizeUrl, parseConfigFile, resolveTarget } from './options.js';

const FILE = '/home/me/.config/meshgate/cli.json';

describe('resolveTarget', () => {
  it('defaults to the seed gateway and token', () => {
    const target = resolveTarget({}, {}, {}, FILE);
    expect(target).toMatchObject({ url: 'http://localhost:3001', mcpUrl: 'http://localhost:3001/mcp', token: 'mcp-token-123' });
    expect(target.tokenSource).toBe('the default token');
  });

  it('takes flags over the environment over the file', () => {
    const file = { url: 'http://file:1', token: 'from-file' };
    const env = { MESHGATE_URL: 'http://env:2', MESHGATE_TOKEN: 'from-env', MCP_BEARER_TOKEN: 'from-bearer' };
    expect(resolveTarget({ url: 'http://flag:3', token: 'from-flag' }, env, file, FILE)).toMatchObject({
      url: 'http://flag:3',
      token: 'from-flag',
      urlSource: '--url',
      tokenSource: '--token',
    });
    expect(resolveTarget({}, env, file, FILE)).toMatchObject({ url: 'http://env:2', token: 'from-env', tokenSource: 'MESHGATE_TOKEN' });
    expect(resolveTarget({}, { MCP_BEARER_TOKEN: 'from-bearer' }, file, FILE)).toMatchObject({ url: 'http://file:1', token: 'from-bearer' });
    expect(resolveTarget({}, {}, file, FILE)).toMatchObject({ url: 'http://file:1', token: 'from-file', urlSource: FILE, tokenSource: FILE });
  });

  it('treats empty values as unset', () => {
    expect(resolveTarget({ url: '' }, { MESHGATE_TOKEN: '' }, {}, FILE)).toMatchObject({ url: 'http://localhost:3001', token: 'mcp-token-123' });
  });

  it("reads the file's tokenEnv, and refuses one that is not set instead of falling back to the default", () => {
    expect(resolveTarget({}, { OPS: 'ops-secret' }, { tokenEnv: 'OPS' }, FILE)).toMatchObject({ token: 'ops-secret', tokenSource: `OPS (named in ${FILE})` });
    expect(() => resolveTarget({}, {}, { tokenEnv: 'OPS' }, FILE)).toThrow(/names tokenEnv OPS, but that variable is not set/);
    expect(resolveTarget({}, { MESHGATE_TOKEN: 'x' }, { tokenEnv: 'OPS' }, FILE).token).toBe('x');
  });
});

describe('normalizeUrl', () => {
  it.each([
    ['http://localhost:3001', 'http://localhost:3001'],
    ['http://localhost:3001/', 'http://localhost:3001'],
    ['http://localhost:3001/mcp', 'http://localhost:3001'],
    ['localhost:3001', 'http://localhost:3001'],
    ['https://mcp.example.com/gateway/mcp/', 'https://mcp.example.com/gateway'],
  ])('%s is the gateway at %s', (raw, expected) => {
    expect(normalizeUrl(raw, '--url')).toBe(expected);
  });

  it.each([
    ['ftp://host', 'must be an http or https URL'],
    ['http://user:pw@host', 'must not contain user:password'],
    ['http://[::1', 'is not a URL'],
  ])('refuses %s', (raw, message) => {
    expect(() => normalizeUrl(raw, '--url')).toThrow(message);
  });
});

describe('the config file', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config, unless MESHGATE_CLI_CONFIG names it', () => {
    expect(configFilePath({}, '/home/me')).toBe(FILE);
    expect(configFilePath({ XDG_CONFIG_HOME: '/xdg' }, '/home/me')).toBe('/xdg/meshgate/cli.json');
    expect(configFilePath({ MESHGATE_CLI_CONFIG: '/etc/mg.json' }, '/home/me')).toBe('/etc/mg.json');
  });

  it('is optional; a broken one is a usage error naming the file and never quoting it', () => {
    expect(parseConfigFile(undefined, FILE)).toEqual({});
    expect(parseConfigFile('{"url":"http://x:1","token":"t"}', FILE)).toEqual({ url: 'http://x:1', token: 't' });
    for (const text of ['{"token": "secret-value"', '{"tokn": "secret-value"}']) {
      try {
        parseConfigFile(text, FILE);
        throw new Error('expected a failure');
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect((error as CliError).exitCode).toBe(EXIT.usage);
        expect((error as Error).message).toContain(FILE);
        expect((error as Error).message).not.toContain('secret-value');
      }
    }
  });
});
