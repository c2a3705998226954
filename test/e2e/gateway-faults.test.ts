import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_FAILURE_CODES, serviceStatus, sleep, within } from '../helpers/faults.js';
import { eventually, type Mesh, rpc, startMesh, USER_ENTRY } from '../helpers/mesh.js';
import { type StartedProcess, startProcess, stopAll } from '../helpers/process.js';

afterAll(stopAll);

describe('a backend killed under load (case 29)', () => {
  let mesh: Mesh;
  const started: StartedProcess[] = [];

  beforeAll(async () => {
    mesh = await startMesh();
    started.push(mesh.shopping, mesh.user, mesh.gateway);
  });
  afterAll(async () => {
    await Promise.all(started.map((process) => process.kill()));
  });

  interface Sample {
    tool: 'getProductById' | 'getUserById';
    startedAt: number;
    endedAt: number;
    status?: number;
    body?: any;
    failure?: string;
  }

  it('calls to the other backend see no errors, calls to it fail fast naming it, and succeed again once it is back on the same port, without a gateway restart', async () => {
    const gatewayPid = mesh.gateway.child.pid;
    const samples: Sample[] = [];
    const t0 = Date.now();
    const RUN_MS = 3_000;
    const KILL_AFTER_MS = 1_000;
    const WORKERS = 8;
    const MAX_CALLS_PER_WORKER = 2_000; // a bound on the loop, far above what 3 s allows

    let killSentAt = Number.POSITIVE_INFINITY;
    let killedAt = Number.POSITIVE_INFINITY;
    const killer = (async () => {
      await sleep(KILL_AFTER_MS);
      killSentAt = Date.now();
      await mesh.user.kill();
      killedAt = Date.now(); // the process has exited and its pipes are closed
    })();

    const worker = async (w: number) => {
      for (let i = 0; i < MAX_CALLS_PER_WORKER && Date.now() - t0 < RUN_MS; i += 1) {
        const tool = (w + i) % 2 === 0 ? 'getProductById' : 'getUserById';
        const args = tool === 'getProductById' ? { id: '123' } : { id: '456' };
        const startedAt = Date.now();
        const outcome = await within(rpc(mesh.gateway.url, 'tools/call', { name: tool, arguments: args }), 10_000);
        const endedAt = Date.now();
        if (outcome === 'hung') samples.push({ tool, startedAt, endedAt, failure: 'no answer within 10 s' });
        else if (!outcome.ok) samples.push({ tool, startedAt, endedAt, failure: String(outcome.error) });
        else samples.push({ tool, startedAt, endedAt, status: outcome.value.status, body: outcome.value.body });
      }
    };
    await Promise.all([killer, ...Array.from({ length: WORKERS }, (_, w) => worker(w))]);

    const succeeded = (s: Sample) => s.status === 200 && s.body?.result !== undefined && s.body.error === undefined;
    const products = samples.filter((s) => s.tool === 'getProductById');
    const users = samples.filter((s) => s.tool === 'getUserById');

    // The other backend: no errors at all, before, during or after the kill.
    expect(products.length).toBeGreaterThan(20);
    const productFailures = products.filter((s) => !succeeded(s) || s.body.result.structuredContent?.id !== '123');
    expect(productFailures, JSON.stringify(productFailures.slice(0, 3))).toEqual([]);

    // The killed backend: fine before the kill...
    const before = users.filter((s) => s.endedAt < killSentAt);
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((s) => !succeeded(s))).toEqual([]);

    // ...any call answered after the kill signal is a success (it finished first) or a
    // clean error naming the service...
    const answeredAfterKill = users.filter((s) => s.endedAt >= killSentAt);
    for (const s of answeredAfterKill) {
      expect(s.failure).toBeUndefined();
      expect(s.status).toBe(200);
      if (succeeded(s)) continue;
      expect(SERVICE_FAILURE_CODES.slice(0, 2)).toContain(s.body.error.code);
      expect(s.body.error.data).toMatchObject({ service: 'user-service' });
    }
    // ...and every call made once it is dead fails, each within a second.
    const afterDeath = users.filter((s) => s.startedAt >= killedAt);
    expect(afterDeath.length).toBeGreaterThan(10);
    for (const s of afterDeath) {
      expect(succeeded(s)).toBe(false);
      expect([-32010, -32011]).toContain(s.body.error.code);
      expect(s.body.error.data).toMatchObject({ service: 'user-service' });
      expect(s.endedAt - s.startedAt).toBeLessThan(1_000);
    }
    const slowest = Math.max(...afterDeath.map((s) => s.endedAt - s.startedAt));
    console.info(
      `[faults] load: ${samples.length} calls (${products.length} product, ${users.length} user, ${afterDeath.length} after death); ` +
        `slowest error after death ${slowest} ms; codes ${[...new Set(afterDeath.map((s) => s.body.error.code))].join(',')}`,
    );

    // Back on the same port: calls succeed again, the gateway is the same process.
    const restartedAt = Date.now();
    const user = await startProcess({ entry: USER_ENTRY, name: 'user-service', env: { PORT: String(mesh.user.port) } });
    started.push(user);
    const result = await eventually(
      'getUserById to succeed again',
      async () => {
        const { body } = await rpc(mesh.gateway.url, 'tools/call', { name: 'getUserById', arguments: { id: '456' } });
        return body.result?.structuredContent ? body.result : undefined;
      },
      15_000,
    );
    console.info(`[faults] user-service serving again ${Date.now() - restartedAt} ms after its restart began`);
    expect(result.structuredContent).toMatchObject({ id: '456' });
    expect(await serviceStatus(mesh.gateway.url, 'user-service')).toBe('up');
    expect(mesh.gateway.child.pid).toBe(gatewayPid);
    expect(mesh.gateway.child.exitCode).toBeNull();
  });
});

describe("a backend restarted behind the gateway's back", () => {
  let mesh: Mesh;
  const started: StartedProcess[] = [];

  beforeAll(async () => {
    // Probes every minute: the gateway cannot notice the restart before the next call.
    mesh = await startMesh({ MESHGATE_PROBE_INTERVAL_MS: '60000' });
    started.push(mesh.shopping, mesh.user, mesh.gateway);
  });
  afterAll(async () => {
    await Promise.all(started.map((process) => process.kill()));
  });

  it('answers 404 to the old session, and the next call still succeeds on a fresh session', async () => {
    const first = await rpc(mesh.gateway.url, 'tools/call', { name: 'getUserById', arguments: { id: '456' } });
    expect(first.body.result.structuredContent).toMatchObject({ id: '456' });

    const bouncedAt = Date.now();
    await mesh.user.stop();
    const user = await startProcess({ entry: USER_ENTRY, name: 'user-service', env: { PORT: String(mesh.user.port) } });
    started.push(user);
    console.info(`[faults] user-service stopped and restarted in ${Date.now() - bouncedAt} ms`);
    // The gateway has not noticed: it still holds the old session.
    expect(await serviceStatus(mesh.gateway.url, 'user-service')).toBe('up');

    const startedAt = Date.now();
    const { status, body } = await rpc(mesh.gateway.url, 'tools/call', { name: 'getUserById', arguments: { id: '456' } });
    console.info(`[faults] first call after the restart answered in ${Date.now() - startedAt} ms`);
    expect(status).toBe(200);
    expect(body.error).toBeUndefined();
    expect(body.result.structuredContent).toMatchObject({ id: '456' });
    // It went through the session-lost path (a 404 from the new process), not a cold reconnect.
    expect(mesh.gateway.output()).toContain('service lost our session; reconnecting');
    expect(await serviceStatus(mesh.gateway.url, 'user-service')).toBe('up');
  });
});
