/**
 * Faults behind the gateway, with real processes and real HTTP (docs/security.md cases
 * 24, 27 and 29): a backend killed under load, a backend restarted behind the gateway's
 * back, a tool list that changes at runtime, deregistration with calls in flight,
 * deadlines (with progress extending them) and cancellation routed to the one call it
 * refers to. Bounds are generous: the machine is small and shared.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamicService, startDynamicService } from '../fixtures/dynamic-service.js';
import { api, eventually, type Mesh, rpc, startGateway, startMesh, TOKEN, USER_ENTRY, waitUntilUp } from '../helpers/mesh.js';
import { type StartedProcess, startProcess, stopAll } from '../helpers/process.js';

const DYNAMIC = 'dynamic-service';
const DYNAMIC_TOOLS = ['echo', 'slow', 'progress'];
/** The gateway's own error codes for a service that cannot serve a call (errors.ts). */
const SERVICE_FAILURE_CODES = [-32010, -32011, -32012, -32013];

const sleep = (ms: number) => new Promise<void>((wake) => setTimeout(wake, ms));

/** Resolves with `promise`'s outcome, or with `'hung'` after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  const settled = promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return Promise.race([settled, bound]).finally(() => clearTimeout(timer));
}

/** A gateway config file with no configured services: only registrations are federated. */
function emptyConfig(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'meshgate-cfg-')), 'services.json');
  writeFileSync(path, JSON.stringify({ services: [] }));
  return path;
}

async function connectClient(gatewayUrl: string, name: string): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  return client;
}

async function toolNames(gatewayUrl: string): Promise<string[]> {
  const { body } = await rpc(gatewayUrl, 'tools/list');
  return body.result.tools.map((tool: { name: string }) => tool.name);
}

async function serviceStatus(gatewayUrl: string, name: string): Promise<string | undefined> {
  const { body } = await api(gatewayUrl, 'GET', '/services');
  return body.services.find((service: { name: string }) => service.name === name)?.status;
}

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

describe('a dynamic backend behind the gateway', () => {
  let dynamic: DynamicService;
  let gateway: StartedProcess;

  beforeAll(async () => {
    dynamic = await startDynamicService({ name: DYNAMIC });
    gateway = await startGateway({ MESHGATE_CONFIG: emptyConfig() });
    const registered = await api(gateway.url, 'POST', '/register', { name: DYNAMIC, url: dynamic.url });
    expect(registered.status).toBe(201);
  });
  afterAll(async () => {
    await gateway?.kill();
    await dynamic?.close();
  });

  it('a tool added at runtime reaches connected clients as tools/list_changed, and is listed and callable', async () => {
    const client = await connectClient(gateway.url, 'faults-list-changed');
    let changes = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      changes += 1;
    });
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(DYNAMIC_TOOLS);
      await sleep(300); // let the client's GET notification stream open
      const addedAt = Date.now();
      dynamic.addTool('fresh');
      await eventually('tools/list_changed at the client', async () => changes > 0, 10_000);
      console.info(`[faults] list_changed reached the client ${Date.now() - addedAt} ms after the tool was added`);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([...DYNAMIC_TOOLS, 'fresh']);
      expect(await toolNames(gateway.url)).toContain('fresh');
      const result = await client.callTool({ name: 'fresh', arguments: { text: 'hello' } });
      expect(result.structuredContent).toEqual({ tool: 'fresh', args: { text: 'hello' } });
      expect(dynamic.callCount('fresh')).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('deregistering with calls in flight ends each call cleanly, keeps the gateway healthy, and the catalog converges', async () => {
    const callsBefore = dynamic.callCount('slow');
    const session = await connectClient(gateway.url, 'faults-deregister');
    try {
      const sessionless = Array.from({ length: 4 }, () => within(rpc(gateway.url, 'tools/call', { name: 'slow', arguments: { ms: 1_500 } }), 10_000));
      const inSession = within(session.callTool({ name: 'slow', arguments: { ms: 1_500 } }), 10_000);
      await eventually('all five slow calls to reach the service', async () => dynamic.callCount('slow') - callsBefore === 5, 5_000);

      const removedAt = Date.now();
      const removed = await api(gateway.url, 'DELETE', `/services/${DYNAMIC}`);
      expect(removed.status).toBe(204);

      for (const outcome of await Promise.all(sessionless)) {
        expect(outcome).not.toBe('hung');
        if (outcome === 'hung') continue;
        expect(outcome.ok).toBe(true); // fetch answered with JSON (rpc parses the body)
        if (!outcome.ok) continue;
        const { status, body } = outcome.value;
        expect(status).toBe(200);
        expect(body).toMatchObject({ jsonrpc: '2.0', id: 1 });
        if (body.error === undefined) {
          expect(body.result.structuredContent).toEqual({ slept: 1_500 });
        } else {
          expect(SERVICE_FAILURE_CODES).toContain(body.error.code);
          expect(body.error.data).toMatchObject({ service: DYNAMIC });
        }
      }
      const sessionOutcome = await inSession;
      expect(sessionOutcome).not.toBe('hung');
      if (sessionOutcome !== 'hung' && !sessionOutcome.ok) {
        // A JSON-RPC error from the gateway, with one of its service failure codes.
        expect(sessionOutcome.error).toMatchObject({ name: 'ProtocolError' });
        expect(SERVICE_FAILURE_CODES).toContain((sessionOutcome.error as { code: number }).code);
      } else if (sessionOutcome !== 'hung') {
        expect(sessionOutcome.value.structuredContent).toEqual({ slept: 1_500 });
      }
      console.info(`[faults] in-flight calls settled ${Date.now() - removedAt} ms after the deregistration`);

      const health = await fetch(`${gateway.url}/health`);
      expect(health.status).toBe(200);
      expect((await health.json()).services[DYNAMIC]).toBeUndefined();
      const names = await toolNames(gateway.url);
      for (const tool of [...DYNAMIC_TOOLS, 'fresh']) expect(names).not.toContain(tool);
      expect((await api(gateway.url, 'GET', `/services/${DYNAMIC}`)).status).toBe(404);
      const gone = await rpc(gateway.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
      expect(gone.body.error).toMatchObject({ code: -32602 });

      // Re-registering works and serves calls again.
      expect((await api(gateway.url, 'POST', '/register', { name: DYNAMIC, url: dynamic.url })).status).toBe(201);
      expect(await toolNames(gateway.url)).toEqual([...DYNAMIC_TOOLS, 'fresh']);
      const echo = await rpc(gateway.url, 'tools/call', { name: 'echo', arguments: { text: 'again' } });
      expect(echo.body.result.structuredContent).toEqual({ text: 'again' });
      const slow = await rpc(gateway.url, 'tools/call', { name: 'slow', arguments: { ms: 50 } });
      expect(slow.body.result.structuredContent).toEqual({ slept: 50 });
    } finally {
      await session.close();
    }
  });

  it("a client's cancellation aborts only its own upstream call; the other client's call completes", async () => {
    await waitUntilUp(gateway.url, [DYNAMIC]);
    const abortedBefore = dynamic.abortedCount();
    const callsBefore = dynamic.callCount('slow');
    const [one, two] = await Promise.all([connectClient(gateway.url, 'faults-cancel-1'), connectClient(gateway.url, 'faults-cancel-2')]);
    try {
      const abort = new AbortController();
      const cancelled = within(one.callTool({ name: 'slow', arguments: { ms: 4_000 } }, { signal: abort.signal }), 10_000);
      const kept = within(two.callTool({ name: 'slow', arguments: { ms: 4_000 } }), 15_000);
      await eventually('both slow calls to reach the service', async () => dynamic.callCount('slow') - callsBefore === 2, 5_000);

      const abortedAt = Date.now();
      abort.abort();
      const first = await cancelled;
      expect(first).not.toBe('hung');
      expect(first !== 'hung' && first.ok).toBe(false);
      await eventually('the service to see one call cancelled', async () => dynamic.abortedCount() - abortedBefore >= 1, 5_000);
      console.info(`[faults] cancellation reached the service within ${Date.now() - abortedAt} ms`);

      const second = await kept;
      expect(second).not.toBe('hung');
      expect(second !== 'hung' && second.ok && second.value.structuredContent).toEqual({ slept: 4_000 });
      expect(dynamic.abortedCount() - abortedBefore).toBe(1);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('deadlines (case 24)', () => {
  let dynamic: DynamicService;
  let gateway: StartedProcess;

  beforeAll(async () => {
    dynamic = await startDynamicService({ name: DYNAMIC });
    gateway = await startGateway({ MESHGATE_CONFIG: emptyConfig(), MESHGATE_UPSTREAM_TIMEOUT_MS: '1000' });
    expect((await api(gateway.url, 'POST', '/register', { name: DYNAMIC, url: dynamic.url })).status).toBe(201);
  });
  afterAll(async () => {
    await gateway?.kill();
    await dynamic?.close();
  });

  it('a call slower than the deadline fails with a timeout naming the service, and the upstream request is aborted', async () => {
    const abortedBefore = dynamic.abortedCount();
    const startedAt = Date.now();
    const { status, body } = await rpc(gateway.url, 'tools/call', { name: 'slow', arguments: { ms: 5_000 } });
    const elapsed = Date.now() - startedAt;
    console.info(`[faults] deadline error after ${elapsed} ms`);
    expect(status).toBe(200);
    expect(body.error).toMatchObject({ code: -32012, data: { service: DYNAMIC } });
    expect(body.error.message).toContain(`"${DYNAMIC}"`);
    expect(elapsed).toBeLessThan(4_000);
    await eventually('the service to see its request aborted', async () => dynamic.abortedCount() - abortedBefore >= 1, 5_000);
    expect(dynamic.abortedCount() - abortedBefore).toBe(1);
  });

  it('progress from the service extends the deadline for a client that asked for progress', async () => {
    const client = await connectClient(gateway.url, 'faults-progress');
    try {
      const notes: { progress: number; total?: number }[] = [];
      const startedAt = Date.now();
      const result = await client.callTool(
        { name: 'progress', arguments: { steps: 6, delayMs: 400 } },
        { onprogress: (progress) => void notes.push(progress) },
      );
      const elapsed = Date.now() - startedAt;
      console.info(`[faults] progress call took ${elapsed} ms with ${notes.length} progress notifications`);
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({ steps: 6, progressSent: 6, hadToken: true });
      expect(elapsed).toBeGreaterThan(2_000); // well past the 1 s deadline
      expect(notes.length).toBeGreaterThanOrEqual(3);
      expect(notes.map((note) => note.progress)).toEqual([...notes.map((note) => note.progress)].sort((a, b) => a - b));
    } finally {
      await client.close();
    }
  });
});
