/**
 * Several replicas, one gateway (issue 15), on real parts: Debian's PostgreSQL (one shared
 * registry, session state, tombstones and message bus) and three gateway processes with the
 * same MESHGATE_DATABASE_URL, MESHGATE_SESSION_KEYS and MESHGATE_SECRET_KEY behind Debian's
 * HAProxy, round-robin with no stickiness. HAProxy's `x-served-by` on each answer says which
 * replica served a request, so every test proves its requests landed where it claims.
 *
 * An SDK v2 client does the whole protocol across the three: lists, calls, progress, a
 * sampling request whose answer lands on another replica than the one waiting for it, a
 * resource subscription whose update reaches the GET stream another replica holds, a log
 * level set on one replica applied on the others, a DELETE on one that is 404 on all. A
 * registration through one replica is callable through the others. Last, a replica killed
 * with SIGKILL under load: the session goes on through the others, and the only calls that
 * fail are those that were in flight on the killed one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningService } from '@meshgate/service-kit';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { type RunningHaproxy, SERVED_BY, startHaproxy } from '../helpers/haproxy.js';
import { api, eventually, FIXTURE_CREDENTIAL, rpc, startFixtureService, startGateway, TOKEN, waitUntilUp } from '../helpers/mesh.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

/** Two keys, newest first, in both encodings the setting takes. */
const SESSION_KEYS = `${randomBytes(32).toString('base64')},${randomBytes(32).toString('base64url')}`;
const NAMES = ['gw1', 'gw2', 'gw3'];

let pg: PostgresServer;
let alpha: ProtocolService;
let extra: RunningService;
let replicas: StartedProcess[];
let haproxy: RunningHaproxy;
let config: string;

beforeAll(async () => {
  [pg, alpha, extra] = await Promise.all([
    startPostgres(),
    startProtocolService({ name: 'alpha', scheme: 'alpha', resources: 3 }),
    startFixtureService('extra', ['lookup']),
  ]);
  const databaseUrl = await pg.createDatabase();
  config = join(mkdtempSync(join(tmpdir(), 'meshgate-cfg-')), 'services.json');
  writeFileSync(config, JSON.stringify({ services: [{ name: 'alpha', url: `${alpha.url}/mcp`, credential: { bearer: TOKEN } }] }));
  // The three open the database together: migrations and the config's seeding must not race.
  replicas = await Promise.all(
    NAMES.map(() => startGateway({ MESHGATE_CONFIG: config, MESHGATE_DATABASE_URL: databaseUrl, MESHGATE_SESSION_KEYS: SESSION_KEYS })),
  );
  await Promise.all(replicas.map((replica) => waitUntilUp(replica.url, ['alpha'])));
  haproxy = await startHaproxy(replicas.map((replica, n) => ({ name: NAMES[n] as string, port: replica.port })));
  await haproxy.waitForUp(NAMES);
}, 90_000);

afterAll(async () => {
  await haproxy?.stop();
  await stopAll();
  await Promise.all([alpha?.close(), extra?.close()]);
  await pg?.stop();
});

/** One HTTP request of the client's: its JSON-RPC message (a GET is `{ method: 'GET' }`), the replica that answered it and the status. */
interface Served {
  message: { id?: unknown; method?: string; result?: unknown };
  by: string;
  status: number;
}

/** An SDK v2 client through HAProxy that can sample; `served` collects where each of its HTTP requests landed. */
async function connect(served: Served[]): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'replicas-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: 'yes' } }));
  const transport = new StreamableHTTPClientTransport(new URL(`${haproxy.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const by = response.headers.get(SERVED_BY) ?? '';
      const { status } = response;
      if (init?.method === 'POST' && typeof init.body === 'string') served.push({ message: JSON.parse(init.body), by, status });
      if (init?.method === 'GET') served.push({ message: { method: 'GET' }, by, status });
      return response;
    },
  });
  await client.connect(transport);
  return { client, transport };
}

/** Which replicas answered requests of `method`. */
const landed = (served: Served[], method: string) => served.filter(({ message }) => message.method === method).map(({ by }) => by);

/** `tools/list` with `id` as session id, straight to one replica (no HAProxy). */
async function listToolsOn(replica: StartedProcess, id: string): Promise<Response> {
  return fetch(`${replica.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': id,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

describe('three gateway processes on one PostgreSQL behind HAProxy, no stickiness', () => {
  it('serve one SDK session on every replica: lists, calls, progress, pings', async () => {
    const served: Served[] = [];
    const { client, transport } = await connect(served);
    expect(transport.sessionId).toMatch(/^s1\.[A-Za-z0-9_-]+$/);
    for (let round = 0; round < 2; round += 1) {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('count');
      expect((await client.listResources()).resources.length).toBeGreaterThan(0);
      expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toContain('greet');
      const progress: number[] = [];
      const counted = await client.callTool({ name: 'count', arguments: { to: 3 } }, { onprogress: (p) => void progress.push(p.progress) });
      expect(counted.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
      expect(progress).toEqual([1, 2, 3]);
      await client.ping();
    }
    // Every replica answered some of this one session's requests, calls among them.
    expect(new Set(served.map(({ by }) => by))).toEqual(new Set(NAMES));
    await client.close();
  });

  it("relay a service's sampling request, and the client's answer reaches the replica waiting for it from any other", async () => {
    const served: Served[] = [];
    const { client } = await connect(served);
    for (let n = 0; n < 6; n += 1) {
      const result = await client.callTool({ name: 'ask', arguments: { question: `q${n}` } });
      expect(result.content).toEqual([{ type: 'text', text: 'alpha heard: yes' }]);
    }
    const calls = landed(served, 'tools/call');
    const answers = served.filter(({ message }) => String(message.id).startsWith('meshgate-relay-') && message.result !== undefined);
    expect(answers).toHaveLength(6);
    // One call at a time, so the n-th answer is the n-th call's: some landed on another replica than the one running the call.
    const crossed = answers.filter((answer, n) => answer.by !== calls[n]);
    expect(crossed.length).toBeGreaterThan(0);
    console.info(`sampling answers relayed to the waiting replica over the bus: ${crossed.length} of ${answers.length}`);
    await client.close();
  });

  it('deliver a resource update to the GET stream held by one replica when another took the subscription, and end it from any', async () => {
    const served: Served[] = [];
    const { client } = await connect(served);
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (notification) => void updates.push(notification.params.uri));
    const streamOn = await eventually('the GET stream open', async () => landed(served, 'GET')[0]);
    // Subscribe until the subscription lands on another replica than the stream's (round-robin: a try or two).
    await client.subscribeResource({ uri: 'alpha://item/1' });
    while (landed(served, 'resources/subscribe').at(-1) === streamOn) {
      await client.unsubscribeResource({ uri: 'alpha://item/1' });
      await client.subscribeResource({ uri: 'alpha://item/1' });
    }
    expect(landed(served, 'resources/subscribe').at(-1)).not.toBe(streamOn);
    await eventually('alpha holding the subscription', async () => alpha.subscriptions()['alpha://item/1'] === 1);
    await eventually('the update on the GET stream', async () => {
      await alpha.touch('alpha://item/1');
      return updates.length > 0;
    });
    expect(new Set(updates)).toEqual(new Set(['alpha://item/1']));
    // An unsubscribe landing on any replica reaches the one holding the subscription upstream.
    await client.unsubscribeResource({ uri: 'alpha://item/1' });
    await eventually('alpha no longer holding the subscription', async () => (alpha.subscriptions()['alpha://item/1'] ?? 0) === 0);
    await client.close();
  });

  it('apply a log level set through one replica on the others', async () => {
    const served: Served[] = [];
    const { client } = await connect(served);
    const logs: unknown[] = [];
    client.setNotificationHandler('notifications/message', (notification) => void logs.push(notification.params.data));
    /** One call of `chatty` (it logs at info): the replica that ran it, and whether its message reached the client. */
    const chatty = async () => {
      const before = logs.length;
      expect((await client.callTool({ name: 'chatty', arguments: {} })).content).toEqual([{ type: 'text', text: 'done' }]);
      return { by: landed(served, 'tools/call').at(-1) as string, heard: logs.length > before };
    };
    /**
     * Calls until every replica has run one whose message was heard (or not) as wanted (a level
     * crosses to the others over the bus, so one may take a moment), then three more, each as wanted.
     */
    const onEveryReplica = async (heard: boolean) => {
      const applied = new Set<string>();
      await eventually(`every replica ${heard ? 'passing' : 'holding back'} info messages`, async () => {
        const call = await chatty();
        if (call.heard === heard) applied.add(call.by);
        return applied.size === NAMES.length;
      });
      for (let n = 0; n < 3; n += 1) expect((await chatty()).heard).toBe(heard);
    };
    // Before any level is set, info messages pass on every replica, and each now holds the session in its cache.
    await onEveryReplica(true);
    await client.setLoggingLevel('warning');
    await onEveryReplica(false);
    await client.setLoggingLevel('info');
    await onEveryReplica(true);
    // Each level was set on one replica only, and applied on all three.
    expect(landed(served, 'logging/setLevel')).toHaveLength(2);
    await client.close();
  });

  it('refuse an id sealed with other keys, or altered, with 404 on every replica', async () => {
    const { client, transport } = await connect([]);
    const id = transport.sessionId as string;
    const altered = `${id.slice(0, 10)}${id[10] === 'A' ? 'B' : 'A'}${id.slice(11)}`;
    for (const bad of [altered, `s1.${randomBytes(120).toString('base64url')}`]) {
      for (const replica of replicas) {
        const response = await listToolsOn(replica, bad);
        expect(response.status).toBe(404);
        expect((await response.json()).error.code).toBe(-32001);
      }
    }
    await client.close();
  });

  it('end a session DELETEd through one replica on all three, cached or not', async () => {
    const served: Served[] = [];
    const { client, transport } = await connect(served);
    // Every replica caches the session: round-robin spreads requests, but the session's other
    // requests (its GET stream, notifications) share the rotation, so list until all three served one.
    for (let n = 0; n < 30 && new Set(landed(served, 'tools/list')).size < NAMES.length; n += 1) await client.listTools();
    expect(new Set(landed(served, 'tools/list'))).toEqual(new Set(NAMES));
    const id = transport.sessionId as string;
    await transport.terminateSession();
    for (const replica of replicas) {
      await eventually(`404 from ${replica.url}`, async () => {
        const response = await listToolsOn(replica, id);
        await response.body?.cancel();
        return response.status === 404;
      });
    }
  });

  it('make a registration through one replica callable through the others', async () => {
    const [first, ...others] = replicas as [StartedProcess, ...StartedProcess[]];
    const registered = await api(first.url, 'POST', '/register', { name: 'extra', url: extra.url, credential: FIXTURE_CREDENTIAL });
    expect(registered.status).toBe(201);
    const since = Date.now();
    const latencies = await Promise.all(
      others.map(async (replica) => {
        await eventually(
          `extra__lookup callable through ${replica.url}`,
          async () =>
            (await rpc(replica.url, 'tools/call', { name: 'extra__lookup', arguments: { id: '7' } })).body?.result?.structuredContent?.from === 'extra',
          5_000,
        );
        return Date.now() - since;
      }),
    );
    console.info(`registration through one replica callable through the others after ${latencies.join(' ms, ')} ms`);
    // The record is the same on every replica.
    for (const replica of others) expect((await api(replica.url, 'GET', '/services/extra')).body?.url).toBe(`${extra.url}/mcp`);
  });

  it('a gateway with session keys but no database says at start what it does not share', async () => {
    const alone = await startGateway({ MESHGATE_CONFIG: config, MESHGATE_SESSION_KEYS: SESSION_KEYS });
    await waitUntilUp(alone.url, ['alpha']);
    const warning = alone
      .output()
      .split('\n')
      .find((line) => line.includes('MESHGATE_DATABASE_URL is not'));
    expect(warning).toContain('log levels, subscriptions, deletions and answers to relayed requests stay on the replica that took them');
    expect(warning).not.toContain(SESSION_KEYS.split(',')[0]);
    await alone.stop();
  });

  it('a replica killed with SIGKILL under load: the session goes on through the others, and only calls in flight on it fail', async () => {
    const served: Served[] = [];
    const { client } = await connect(served);
    const victim = replicas[1] as StartedProcess;
    // A second session whose GET stream the victim holds, subscribed to a resource through another replica.
    const watched: Served[] = [];
    const heard: string[] = [];
    let watcher = await connect(watched);
    for (let attempt = 0; (await eventually('the GET stream open', async () => landed(watched, 'GET')[0])) !== 'gw2'; attempt += 1) {
      expect(attempt).toBeLessThan(6);
      await watcher.client.ping(); // moves the round-robin on by one for the next try
      await watcher.client.close();
      watched.length = 0;
      watcher = await connect(watched);
    }
    watcher.client.setNotificationHandler('notifications/resources/updated', (notification) => void heard.push(notification.params.uri));
    await watcher.client.subscribeResource({ uri: 'alpha://item/2' });
    while (landed(watched, 'resources/subscribe').at(-1) === 'gw2') {
      await watcher.client.unsubscribeResource({ uri: 'alpha://item/2' });
      await watcher.client.subscribeResource({ uri: 'alpha://item/2' });
    }
    await eventually('alpha holding the subscription', async () => alpha.subscriptions()['alpha://item/2'] === 1);
    /** Each call: whether it started before the kill, and how it ended. */
    const calls: { beforeKill: boolean; ok: boolean }[] = [];
    let killed = false;
    const callers = 4;
    // Four callers, each calling `count` (about 100 ms each) over and over, until 40 calls started after the kill succeeded.
    const load = Array.from({ length: callers }, async () => {
      while (calls.filter((call) => !call.beforeKill && call.ok).length < 40) {
        const beforeKill = !killed;
        try {
          await client.callTool({ name: 'count', arguments: { to: 5 } });
          calls.push({ beforeKill, ok: true });
        } catch {
          calls.push({ beforeKill, ok: false });
        }
      }
    });
    // Kill once every replica has served calls of this session.
    await eventually('calls on every replica', async () => new Set(landed(served, 'tools/call')).size === 3, 15_000);
    // The flag goes up once the process is gone: a call started before then may have been in flight on it.
    await victim.kill();
    killed = true;
    await Promise.all(load);
    const failed = calls.filter((call) => !call.ok);
    // The calls that failed were all in flight when the replica died (at most one per caller), and none started after.
    expect(failed.every((call) => call.beforeKill)).toBe(true);
    expect(failed.length).toBeLessThanOrEqual(callers);
    expect(calls.filter((call) => call.beforeKill && call.ok).length).toBeGreaterThan(0);
    // After the kill, the session is served by the two others only, and still works.
    await haproxy.waitForUp(['gw1', 'gw3']);
    served.length = 0;
    for (let n = 0; n < 6; n += 1) await client.ping();
    expect(new Set(served.map(({ by }) => by))).toEqual(new Set(['gw1', 'gw3']));
    // The second session's GET stream is reopened on a live replica (it cannot be resumed there:
    // its events were the victim's), which tells the client what it may have missed...
    await eventually('the hint of a possibly missed update on the reopened GET stream', async () => heard.length > 0);
    expect(landed(watched, 'GET').at(-1)).not.toBe('gw2');
    expect(watched.filter(({ message }) => message.method === 'GET').at(-1)?.status).toBe(200);
    // ...and the next update from the service reaches it there.
    heard.length = 0;
    await eventually('the update on the reopened GET stream', async () => {
      await alpha.touch('alpha://item/2');
      return heard.length > 0;
    });
    console.info(`replica killed under load: ${failed.length} of ${calls.length} calls failed, all in flight at the kill`);
    await Promise.all([client.close(), watcher.client.close()]);
  });
});
