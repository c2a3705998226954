/**
 * docs/security.md, "Registration", cases 20-22: the SSRF guard, registration input
 * errors, and name clashes that never re-route silently.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, FIXTURE_CREDENTIAL } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { callBody, expectAlive, postMcp, type RecordingBackend, startGatewayFor, startRecordingBackend } from './harness.js';

let backend: RecordingBackend;
let other: RecordingBackend;
let gateway: StartedProcess;
let strict: StartedProcess;
let redirector: Server;
let redirectorHits = 0;

beforeAll(async () => {
  backend = await startRecordingBackend();
  other = await startRecordingBackend('other');
  [gateway, strict] = await Promise.all([startGatewayFor(backend), startGatewayFor(backend, { MESHGATE_ALLOW_PRIVATE_NETWORKS: 'false' })]);
  redirector = createServer((_req, res) => {
    redirectorHits += 1;
    res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await stopAll();
  redirector?.closeAllConnections();
  redirector?.close();
  await Promise.all([backend?.close(), other?.close()]);
});

const names = async (url: string) => ((await api(url, 'GET', '/services')).body.services as Array<{ name: string }>).map((s) => s.name);

describe('registration', () => {
  it.each([
    ['ftp://example.com/', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['http://admin:secret@127.0.0.1:1/', /user:password/],
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata service/],
    ['http://169.254.10.10:8080/', /link-local/],
    ['http://[fe80::1]:8080/', /link-local/],
    ['http://[fd00:ec2::254]/', /cloud metadata service/],
    ['http://metadata.google.internal/computeMetadata/v1/', /cloud metadata service/],
    ['http://2852039166/', /cloud metadata service/], // decimal
    ['http://0xa9.0xfe.0xa9.0xfe/', /cloud metadata service/], // hex
    ['http://0251.0376.0251.0376/', /cloud metadata service/], // octal
    ['http://[::ffff:169.254.169.254]/', /cloud metadata service/], // IPv4-mapped IPv6
    ['http://0.0.0.0:3000/', /unspecified/],
  ])('case 20: %s is refused with 400 invalid_url and the reason', async (url, reason) => {
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'probe', url });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_url');
    expect(body.message).toMatch(reason);
    expect(body.message).not.toMatch(/secret/);
    expect(await names(gateway.url)).not.toContain('probe');
    await expectAlive(gateway);
  });

  it('case 20: with private networks off, loopback names and addresses are refused and the backend hears nothing', async () => {
    const port = new URL(backend.url).port;
    const before = backend.caused().length;
    for (const url of [`http://localhost:${port}`, `http://127.0.0.1:${port}/mcp`, `http://0x7f.1:${port}/`, `http://[::1]:${port}/`]) {
      const { status, body } = await api(strict.url, 'POST', '/register', { name: 'inside', url });
      expect(status, url).toBe(400);
      expect(body.message).toMatch(/loopback address, and MESHGATE_ALLOW_PRIVATE_NETWORKS is false/);
      expect(body.message).not.toMatch(/resolves to (127|::1)/);
    }
    expect(backend.caused().length).toBe(before);
    await expectAlive(strict);
  });

  it('case 20: a redirect is never followed, so it cannot reach a blocked address; the update of a registered URL is checked too', async () => {
    const hits = redirectorHits;
    const redirect = await api(gateway.url, 'POST', '/register', {
      name: 'bouncer',
      url: `http://127.0.0.1:${(redirector.address() as { port: number }).port}`,
    });
    expect(redirect.status).toBe(400);
    expect(redirect.body).toMatchObject({ error: 'invalid_url', message: expect.stringMatching(/redirect/) });
    expect(redirectorHits).toBe(hits + 1); // asked once, never followed
    expect(await names(gateway.url)).not.toContain('bouncer');

    expect((await api(gateway.url, 'POST', '/register', { name: 'movable', url: other.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
    const moved = await api(gateway.url, 'PUT', '/services/movable', { url: 'http://169.254.169.254/' });
    expect(moved.status).toBe(400);
    expect(moved.body.error).toBe('invalid_url');
    expect((await api(gateway.url, 'GET', '/services/movable')).body.url).toBe(`${other.url}/mcp`);
    expect((await api(gateway.url, 'DELETE', '/services/movable')).status).toBe(204);
    await expectAlive(gateway);
  });

  it.each([
    ['an upper-case name', { name: 'Bad_Name', url: 'http://127.0.0.1:1' }, 400, 'invalid_body'],
    ['a name starting with a dash', { name: '-x', url: 'http://127.0.0.1:1' }, 400, 'invalid_body'],
    ['a 64-character name', { name: 'a'.repeat(64), url: 'http://127.0.0.1:1' }, 400, 'invalid_body'],
    ['an empty name', { name: '', url: 'http://127.0.0.1:1' }, 400, 'invalid_body'],
    ['an empty body', '', 400, 'invalid_body'],
    ['a body over 64 KiB', JSON.stringify({ name: 'big', url: `http://127.0.0.1:1/${'a'.repeat(70_000)}` }), 400, 'invalid_body'],
    ['an unknown field', { name: 'x', url: 'http://127.0.0.1:1', admin: true }, 400, 'invalid_body'],
    ['a duplicate name', { name: 'recorder', url: 'http://127.0.0.1:1' }, 409, 'service_exists'],
  ])('case 21: %s is refused with its status and the reason', async (_what, body, status, code) => {
    const before = backend.caused().length;
    const answer = await api(gateway.url, 'POST', '/register', body);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe(code);
    expect(answer.body.message.length).toBeGreaterThan(10);
    expect(backend.caused().length).toBe(before);
    await expectAlive(gateway);
  });

  it('case 22: a newcomer with a taken tool name is listed as <service>__<tool>; the owner keeps the bare name', async () => {
    const registered = await api(gateway.url, 'POST', '/register', { name: 'other', url: other.url, credential: FIXTURE_CREDENTIAL });
    expect(registered.status).toBe(201);
    expect(registered.body.tools).toEqual([{ name: 'other__lookup', upstreamName: 'lookup' }]);
    const [mine, theirs] = [backend.toolCalls(), other.toolCalls()];
    expect((await postMcp(gateway, callBody('lookup'))).body.result.structuredContent.from).toBe('recorder');
    expect((await postMcp(gateway, callBody('other__lookup'))).body.result.structuredContent.from).toBe('other');
    expect([backend.toolCalls(), other.toolCalls()]).toEqual([mine + 1, theirs + 1]);
    await expectAlive(gateway);
  });
});
