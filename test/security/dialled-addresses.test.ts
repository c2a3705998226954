/**
 * Finding 5 of the second hostile-input round (docs/security.md, "Round two"): the SSRF
 * guard checked a registered URL's name, but the connection resolved it again. Names
 * under `.localhost` were taken as loopback without resolving them, and a name whose
 * DNS answer changed after the check (rebinding) was dialled wherever it pointed then.
 * Now every connection to a registered service resolves once, checks every address and
 * dials only those (security/ssrf.ts `guardedLookup`), and IPv4 addresses embedded in
 * IPv6 (SIIT, NAT64 with either prefix, 6to4, Teredo, ISATAP, compatible) are judged by
 * the IPv4 they carry.
 *
 * DNS is played by a preload in the gateway process (test/fixtures/dns-stub.mjs). The
 * refused address it answers is 0.0.0.0 (unspecified, refused like a metadata address):
 * on Linux a connection to it reaches the local recording backend, so a test can see
 * whether the gateway dialled it. The real metadata address would just time out.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, FIXTURE_CREDENTIAL } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive, type RecordingBackend, startGatewayFor, startRecordingBackend } from './harness.js';

const STUB = fileURLToPath(new URL('../fixtures/dns-stub.mjs', import.meta.url));

let backend: RecordingBackend;
let target: RecordingBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  backend = await startRecordingBackend();
  target = await startRecordingBackend('target');
  const dns = join(mkdtempSync(join(tmpdir(), 'meshgate-dns-')), 'dns.json');
  writeFileSync(
    dns,
    JSON.stringify({
      'evil.localhost': '0.0.0.0',
      'rebind.test': ['127.0.0.1', '0.0.0.0'],
      'fine.test': '127.0.0.1',
    }),
  );
  gateway = await startGatewayFor(backend, { NODE_OPTIONS: `--import ${STUB}`, DNS_STUB_FILE: dns });
});
afterAll(async () => {
  await stopAll();
  await Promise.all([backend?.close(), target?.close()]);
});

const portOf = (url: string) => new URL(url).port;

describe('the addresses actually dialled', () => {
  it('a name under .localhost is resolved like any other: one that leads to a refused address is 400, and nothing is dialled', async () => {
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'evil', url: `http://evil.localhost:${portOf(target.url)}/mcp` });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_url' });
    expect(body.message).toMatch(/resolves to an unspecified address/);
    expect(target.caused()).toEqual([]);
    await expectAlive(gateway);
  });

  it('a DNS answer that changes after the check (rebinding) is caught at connect: 400, and the refused address is never dialled', async () => {
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'rebind', url: `http://rebind.test:${portOf(target.url)}/mcp` });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_url' });
    expect(body.message).toMatch(/host "rebind\.test" resolves to an unspecified address/);
    expect(target.caused()).toEqual([]);
    const services = (await api(gateway.url, 'GET', '/services')).body.services as Array<{ name: string }>;
    expect(services.map((service) => service.name)).not.toContain('rebind');
  });

  it('a name that resolves to an allowed address still registers and serves (the guard pins, it does not block)', async () => {
    const { status } = await api(gateway.url, 'POST', '/register', {
      name: 'fine',
      url: `http://fine.test:${portOf(target.url)}/mcp`,
      credential: FIXTURE_CREDENTIAL,
    });
    expect(status).toBe(201);
    expect(target.methods()).toContain('initialize');
    expect((await api(gateway.url, 'DELETE', '/services/fine')).status).toBe(204);
  });

  it.each([
    ['SIIT (IPv4-translated)', '[::ffff:0:a9fe:a9fe]'],
    ['NAT64, well-known prefix', '[64:ff9b::a9fe:a9fe]'],
    ['NAT64, local-use prefix, /96', '[64:ff9b:1::a9fe:a9fe]'],
    ['NAT64, local-use prefix, /48', '[64:ff9b:1:a9fe:a9:fe00::]'],
    ['6to4', '[2002:a9fe:a9fe::1]'],
    ['Teredo, server', '[2001:0:a9fe:a9fe::1]'],
    ['Teredo, client (inverted)', '[2001:0:4136:e378:8000:63bf:5601:5601]'],
    ['ISATAP', '[2001:db8::5efe:a9fe:a9fe]'],
    ['IPv4-compatible', '[::a9fe:a9fe]'],
    ['Azure wireserver inside NAT64', '[64:ff9b::a83f:8110]'],
  ])('%s form of a metadata address is refused with 400', async (_form, host) => {
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'embedded', url: `http://${host}/mcp` });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_url' });
    expect(body.message).toMatch(/link-local|cloud metadata/);
  });
});
