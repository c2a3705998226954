import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkServiceUrl, classifyAddress, guardedLookup } from './ssrf.js';

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
    ['::ffff:0:a9fe:a9fe', 'blocked'], // SIIT (IPv4-translated)
    ['::ffff:0:a00:1', 'private'], // SIIT of 10.0.0.1
    ['64:ff9b:1::a9fe:a9fe', 'blocked'], // NAT64, local-use prefix (RFC 8215), /96 place
    ['64:ff9b:1:a9fe:a9:fe00::', 'blocked'], // the same prefix, /48 place
    ['64:ff9b:1::808:808', 'public'], // 8.8.8.8 through local-use NAT64
    ['64:ff9b::a83f:8110', 'blocked'], // Azure wireserver through NAT64
    ['2001:0:a9fe:a9fe::1', 'blocked'], // Teredo, server part
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'blocked'], // Teredo, client part (inverted)
    ['2001:0:808:808:8000:63bf:f7f7:f7f7', 'private'], // Teredo between public hosts: a tunnel, not a public address
    ['2001:db8::5efe:a9fe:a9fe', 'blocked'], // ISATAP
    ['2001:db8::200:5efe:a9fe:a9fe', 'blocked'], // ISATAP, universal/local bit set
    ['2002:808:808::1', 'public'], // 6to4 of 8.8.8.8
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
    for (const url of ['http://127.0.0.1:3004/mcp', 'http://0x7f.1:3004/', 'http://2130706433/', 'http://[::1]:3004/']) {
      expect(await checkServiceUrl(url, allow)).toEqual({ ok: true });
      const verdict = await checkServiceUrl(url, deny);
      expect(verdict.ok || verdict.reason).toMatch(/MESHGATE_ALLOW_PRIVATE_NETWORKS is false/);
    }
    const compose = { ...deny, resolve: async () => ['172.18.0.3'] };
    expect((await checkServiceUrl('http://user-service:3003/mcp', compose)).ok).toBe(false);
    expect(await checkServiceUrl('http://user-service:3003/mcp', { ...compose, allowPrivateNetworks: true })).toEqual({ ok: true });
  });

  it('resolves localhost and names under .localhost like any other name: what they resolve to decides', async () => {
    const loopback = { ...deny, resolve: async () => ['127.0.0.1'] };
    expect(await checkServiceUrl('http://localhost:3004', loopback)).toMatchObject({ ok: false, reason: expect.stringMatching(/loopback/) });
    const metadata = { ...allow, resolve: async () => ['169.254.169.254'] };
    expect(await checkServiceUrl('http://evil.localhost:3004', metadata)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/"url" host "evil.localhost" resolves to a cloud metadata service/),
    });
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

describe('guardedLookup', () => {
  const lookup = (policy: { allowPrivateNetworks: boolean }, name: string, all: boolean) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[] }>((resolve) =>
      guardedLookup(policy)(name, { all }, (error, address) => resolve({ error, address })),
    );

  it('hands the connection the addresses it checked', async () => {
    const single = await lookup({ allowPrivateNetworks: true }, 'localhost', false);
    expect(single.error).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(single.address);
    const all = await lookup({ allowPrivateNetworks: true }, 'localhost', true);
    expect((all.address as LookupAddress[]).length).toBeGreaterThan(0);
  });

  it('fails the connection, naming what the address is, when one is refused', async () => {
    const { error } = await lookup({ allowPrivateNetworks: false }, 'localhost', false);
    expect(error?.code).toBe('ERR_ADDRESS_REFUSED');
    expect(error?.message).toMatch(/host "localhost" resolves to a loopback address, and MESHGATE_ALLOW_PRIVATE_NETWORKS is false/);
  });
});
