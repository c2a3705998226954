import type { RunningService } from '@meshgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, type Mesh, rpc, startFixtureService, startGateway, startMesh, tempDbPath, waitUntilUp } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';

const ADMIN = 'audit-admin-token-0001';
const ALICE = 'audit-alice-token-0002';
const TOKENS = JSON.stringify([
  { name: 'root', token: ADMIN, roles: ['admin', 'client'] },
  { name: 'alice', token: ALICE, roles: ['client'] },
]);

describe('observability: the durable audit log', () => {
  let mesh: Mesh;
  let fixture: RunningService;
  const dbPath = tempDbPath();
  let second: StartedProcess | undefined;

  beforeAll(async () => {
    fixture = await startFixtureService('audited-fixture', ['lookup'], 'fixture-secret-token');
    mesh = await startMesh({ MESHGATE_DB_PATH: dbPath, MESHGATE_TOKENS: TOKENS });
  });
  afterAll(async () => {
    await second?.stop();
    await mesh?.gateway.stop();
    await Promise.all([mesh?.shopping.stop(), mesh?.user.stop(), fixture?.close()]);
  });

  const audit = (query: string, token = ADMIN, gateway = mesh.gateway.url) => api(gateway, 'GET', `/audit${query}`, undefined, token);

  it('records calls (digest of the arguments) and admin changes (secrets redacted), and serves them with filters and paging', async () => {
    await rpc(
      mesh.gateway.url,
      'tools/call',
      { name: 'getProductById', arguments: { id: '123' } },
      { token: ALICE, headers: { 'x-request-id': 'audit-req-1' } },
    );
    await rpc(mesh.gateway.url, 'tools/call', { name: 'nope', arguments: { id: '1' } }, { token: ALICE });
    const registered = await api(
      mesh.gateway.url,
      'POST',
      '/register',
      { name: 'audited', url: fixture.url, credential: { bearer: 'fixture-secret-token' } },
      ADMIN,
    );
    expect(registered.status).toBe(201);
    expect((await api(mesh.gateway.url, 'PUT', '/services/audited', { url: fixture.url.replace('127.0.0.1', 'localhost') }, ADMIN)).status).toBe(200);
    expect((await api(mesh.gateway.url, 'DELETE', '/services/audited', undefined, ADMIN)).status).toBe(204);

    const calls = await audit('?kind=tools/call');
    expect(calls.status).toBe(200);
    const [ok, failed] = calls.body.entries;
    expect(ok).toMatchObject({
      kind: 'tools/call',
      identity: 'alice',
      service: 'shopping-service',
      target: 'getProductById',
      outcome: 'ok',
      requestId: 'audit-req-1',
      detail: { argumentsDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    });
    expect(ok.durationMs).toBeGreaterThan(0);
    expect(JSON.stringify(ok)).not.toContain('"123"');
    expect(failed).toMatchObject({ identity: 'alice', target: 'nope', outcome: 'error', code: '-32602', service: null });

    const admin = await audit('?service=audited');
    expect(admin.body.entries.map((e: { kind: string }) => e.kind)).toEqual(['service.register', 'service.update', 'service.deregister']);
    const [register, update, deregister] = admin.body.entries;
    expect(register).toMatchObject({
      identity: 'root',
      outcome: 'ok',
      detail: { before: null, after: { name: 'audited', credential: { type: 'bearer', token: '[redacted]' } } },
    });
    expect(update.detail.before.url).not.toBe(update.detail.after.url);
    expect(deregister.detail).toMatchObject({ before: { name: 'audited' }, after: null });
    expect(JSON.stringify(admin.body)).not.toContain('fixture-secret-token');

    expect((await audit('?outcome=error')).body.entries).toHaveLength(1);
    expect((await audit('?identity=alice&tool=getProductById')).body.entries).toHaveLength(1);
    expect((await audit(`?until=${encodeURIComponent(new Date(Date.parse(ok.at) - 60_000).toISOString())}`)).body.entries).toEqual([]);
    const first = await audit('?limit=2');
    expect(first.body.entries).toHaveLength(2);
    const next = await audit(`?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.body.entries[0].seq).toBeGreaterThan(first.body.entries[1].seq);
    expect((await audit('?limit=0')).status).toBe(400);
    expect((await audit('?kind=bogus')).status).toBe(400);

    const exported = await fetch(`${mesh.gateway.url}/audit/export?kind=tools/call`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await exported.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((entry) => entry.target)).toEqual(['getProductById', 'nope']);

    // The admin API has access-log lines too, with the caller once authenticated.
    const line = await eventually('the access-log line of the registration', async () =>
      mesh.gateway
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((entry) => entry.msg === 'request' && entry.http === 'POST' && entry.path === '/register'),
    );
    expect(line).toMatchObject({ identity: 'root', status: 201, requestId: expect.any(String) });
    // The PUT and the DELETE, one line each (lines are buffered: wait for both).
    const changes = () =>
      mesh.gateway
        .output()
        .split('\n')
        .filter((l) => l.includes('"msg":"request"') && l.includes('"path":"/services/audited"'));
    await eventually('both access-log lines of the changes', async () => changes().length >= 2);
    expect(changes()).toHaveLength(2);
  });

  it('is for admins only; the refusals are counted', async () => {
    const refused = await audit('', ALICE);
    expect(refused.status).toBe(403);
    expect((await audit('', null as unknown as string)).status).toBe(401);
    const metrics = await (await fetch(`${mesh.gateway.url}/metrics`)).text();
    expect(metrics).toContain('meshgate_refusals_total{reason="forbidden"} 1');
    expect(metrics).toContain('meshgate_refusals_total{reason="unauthorized"} 1');
  });

  it('survives a SIGKILL of the gateway: a new gateway on the same file reads it back', async () => {
    const before = (await audit('')).body.entries;
    expect(before.length).toBeGreaterThanOrEqual(5);
    await mesh.gateway.kill();
    second = await startGateway({
      MESHGATE_DB_PATH: dbPath,
      MESHGATE_TOKENS: TOKENS,
      SHOPPING_SERVICE_URL: `${mesh.shopping.url}/mcp`,
      USER_SERVICE_URL: `${mesh.user.url}/mcp`,
    });
    const after = (await audit('', ADMIN, second.url)).body.entries;
    expect(after).toEqual(before);
  });

  it('writes what is queued on a clean shutdown', async () => {
    const url = (second as StartedProcess).url;
    await waitUntilUp(url, ['user-service']);
    await rpc(url, 'tools/call', { name: 'getUserById', arguments: { id: '9' } }, { token: ALICE, headers: { 'x-request-id': 'before-sigterm' } });
    await (second as StartedProcess).stop();
    second = await startGateway({ MESHGATE_DB_PATH: dbPath, MESHGATE_TOKENS: TOKENS });
    const found = await eventually(
      'the last call in the audit',
      async () => (await audit('?identity=alice&tool=getUserById', ADMIN, second?.url)).body.entries,
    );
    expect(found.map((entry: { requestId: string }) => entry.requestId)).toEqual(['before-sigterm']);
  });
});
