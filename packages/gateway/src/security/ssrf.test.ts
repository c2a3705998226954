import { describe, expect, it } from 'vitest';
import { checkServiceUrl, classifyAddress } from './ssrf.js';

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['127.0.0.1', 'private'],
    ['::1', 'private'],
    ['10.1.2.3', 'private'],
    ['172.18.0.2', 'private'], // a compose network
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'blocked'],
    ['169.254.1.1', 'blocked'],
    ['fe80::1', 'blocked'],
    ['fd00:ec2::254', 'blocked'],
    ['100.100.100.200', 'blocked'],
    ['0.0.0.0', 'blocked'],
    ['::', 'blocked'],
    ['224.0.0.1', 'blocked'],
    ['255.255.255.255', 'blocked'],
    ['::ffff:169.254.169.254', 'blocked'], // IPv4-mapped
    ['::ffff:a9fe:a9fe', 'blocked'], // the same, in hex
    ['::a9fe:a9fe', 'blocked'], // IPv4-compatible
    ['64:ff9b::a9fe:a9fe', 'blocked'], // NAT64
    ['2002:a9fe:a9fe::1', 'blocked'], // 6to4
    ['::ffff:127.0.0.1', 'private'],
    ['[::1]', 'private'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address).kind).toBe(kind);
  });
});

describe('checkServiceUrl', () => {
  const allow = { allowPrivateNetworks: true, resolve: async () => ['8.8.8.8'] };
  const deny = { ...allow, allowPrivateNetworks: false };

  it.each([
    'http://169.254.169.254/latest/meta-data',
    'http://0xa9.0xfe.0xa9.0xfe/', // hex
    'http://2852039166/', // decimal
    'http://0251.0376.0251.0376/', // octal
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://[fe80::1]:8080/mcp',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.google.internal./',
    'http://0.0.0.0:3000/',
  ])('always refuses %s', async (url) => {
    const verdict = await checkServiceUrl(url, allow);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok || verdict.reason).toMatch(/never calls those/);
  });

  it.each(['ftp://example.com/', 'file:///etc/passwd', 'gopher://x/'])('refuses the scheme of %s', async (url) => {
    expect(await checkServiceUrl(url, allow)).toEqual({ ok: false, reason: '"url" must use http or https' });
  });

  it('refuses user:password', async () => {
    expect(await checkServiceUrl('http://user:secret@example.com/', allow)).toEqual({ ok: false, reason: '"url" must not contain user:password' });
  });

  it('refuses a name when any of its addresses is blocked, without naming the address', async () => {
    const verdict = await checkServiceUrl('http://rebind.example/mcp', { ...allow, resolve: async () => ['8.8.8.8', '169.254.169.254'] });
    expect(verdict).toEqual({
      ok: false,
      reason: '"url" host "rebind.example" resolves to a cloud metadata service; the gateway never calls those',
    });
  });

  it('lets loopback and private networks through by default, and refuses them when private networks are off', async () => {
    for (const url of ['http://localhost:3004', 'http://127.0.0.1:3004/mcp', 'http://0x7f.1:3004/', 'http://2130706433/', 'http://[::1]:3004/']) {
      expect(await checkServiceUrl(url, allow)).toEqual({ ok: true });
      const verdict = await checkServiceUrl(url, deny);
      expect(verdict.ok || verdict.reason).toMatch(/MESHGATE_ALLOW_PRIVATE_NETWORKS is false/);
    }
    const compose = { ...deny, resolve: async () => ['172.18.0.3'] };
    expect((await checkServiceUrl('http://user-service:3003/mcp', compose)).ok).toBe(false);
    expect(await checkServiceUrl('http://user-service:3003/mcp', { ...compose, allowPrivateNetworks: true })).toEqual({ ok: true });
  });

  it('lets public hosts through', async () => {
    expect(await checkServiceUrl('https://mcp.example.com/mcp', deny)).toEqual({ ok: true });
  });

  it('lets a name that does not resolve through: connecting then fails with its own error', async () => {
    const resolve = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND custom-service'), { code: 'ENOTFOUND' });
    };
    expect(await checkServiceUrl('http://custom-service:3000', { ...deny, resolve })).toEqual({ ok: true });
  });
});
