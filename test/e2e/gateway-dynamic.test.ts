import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamicService, startDynamicService } from '../fixtures/dynamic-service.js';
import { connectClient, DYNAMIC, DYNAMIC_TOOLS, emptyConfig, SERVICE_FAILURE_CODES, sleep, toolNames, within } from '../helpers/faults.js';
import { api, eventually, FIXTURE_CREDENTIAL, rpc, startGateway, waitUntilUp } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

afterAll(stopAll);

describe('a dynamic backend behind the gateway', () => {
  let dynamic: DynamicService;
  let gateway: StartedProcess;

  beforeAll(async () => {
    dynamic = await startDynamicService({ name: DYNAMIC });
    gateway = await startGateway({ MESHGATE_CONFIG: emptyConfig() });
    const registered = await api(gateway.url, 'POST', '/register', { name: DYNAMIC, url: dynamic.url, credential: FIXTURE_CREDENTIAL });
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
      expect((await api(gateway.url, 'POST', '/register', { name: DYNAMIC, url: dynamic.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
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
    expect((await api(gateway.url, 'POST', '/register', { name: DYNAMIC, url: dynamic.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
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
