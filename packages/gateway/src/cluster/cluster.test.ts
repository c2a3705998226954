import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../../../test/helpers/mesh.js';
import { type PostgresServer, startPostgres } from '../../../../test/helpers/postgres.js';
import { MemoryBusHub, MemorySessionStateStore } from './memory.js';
import { PostgresMessageBus } from './postgres-bus.js';
import { PostgresSessionStateStore } from './postgres-session-state.js';
import { type BusMessage, MAX_BUS_BODY_BYTES, type MessageBus, type SessionStateStore } from './types.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

/** Opens what a test needs and closes it after the test. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
async function pool(url: string): Promise<pg.Pool> {
  const opened = new pg.Pool({ connectionString: url, max: 4 });
  // As its owner in the gateway does (the registry store): a connection the server ends is no crash.
  opened.on('error', () => undefined);
  cleanups.push(() => opened.end());
  return opened;
}

/** Two handles on one shared state, as two replicas would have. */
type Pair<T> = () => Promise<[T, T]>;
const stateStores: [string, Pair<SessionStateStore>][] = [
  [
    'memory',
    async () => {
      const store = new MemorySessionStateStore();
      return [store, store];
    },
  ],
  [
    'postgres',
    async () => {
      const url = await server.createDatabase();
      return [await PostgresSessionStateStore.create(await pool(url)), await PostgresSessionStateStore.create(await pool(url))];
    },
  ],
];
const buses: [string, Pair<MessageBus>][] = [
  [
    'memory',
    async () => {
      const hub = new MemoryBusHub();
      const pair: [MessageBus, MessageBus] = [hub.bus('a'), hub.bus('b')];
      cleanups.push(async () => void (await Promise.all(pair.map((bus) => bus.close()))));
      return pair;
    },
  ],
  [
    'postgres',
    async () => {
      const url = await server.createDatabase();
      const pair: [MessageBus, MessageBus] = [
        await PostgresMessageBus.create(await pool(url), url, { replicaId: 'a' }),
        await PostgresMessageBus.create(await pool(url), url, { replicaId: 'b' }),
      ];
      cleanups.push(async () => void (await Promise.all(pair.map((bus) => bus.close()))));
      return pair;
    },
  ],
];

const LATER = Date.now() + 3_600_000;
const sub = (uri: string) => ({ uri, service: 'files', upstreamUri: `file:///${uri}` });

describe.each(stateStores)('SessionStateStore on %s', (_name, open) => {
  it('knows nothing of a session until one replica writes, then every replica reads the same state', async () => {
    const [a, b] = await open();
    expect(await b.lookup('s1')).toEqual({ kind: 'unknown' });
    await a.setLogLevel('s1', 'warning', LATER);
    await a.subscribe('s1', sub('x'), LATER);
    await b.subscribe('s1', sub('y'), LATER);
    await b.subscribe('s1', { ...sub('x'), upstreamUri: 'file:///moved' }, LATER);
    expect(await b.lookup('s1')).toEqual({
      kind: 'live',
      state: { logLevel: 'warning', subscriptions: [{ ...sub('x'), upstreamUri: 'file:///moved' }, sub('y')] },
    });
    await b.unsubscribe('s1', 'x');
    await a.setLogLevel('s1', undefined, LATER);
    expect(await a.lookup('s1')).toEqual({ kind: 'live', state: { logLevel: undefined, subscriptions: [sub('y')] } });
    expect(await a.lookup('s2')).toEqual({ kind: 'unknown' });
  });

  it('keeps an ended session ended: its state goes and later writes from any replica are ignored until the tombstone expires', async () => {
    const [a, b] = await open();
    await a.subscribe('s1', sub('x'), LATER);
    await b.end('s1', LATER);
    await a.setLogLevel('s1', 'debug', LATER);
    await a.subscribe('s1', sub('y'), LATER);
    expect(await a.lookup('s1')).toEqual({ kind: 'ended' });
    expect(await b.sweep(LATER - 1)).toBe(0);
    expect(await b.sweep(LATER)).toBe(1);
    expect(await a.lookup('s1')).toEqual({ kind: 'unknown' });
  });

  it('forgets state that was not touched before it expired, and keeps state that was', async () => {
    const [a, b] = await open();
    await a.setLogLevel('old', 'info', 1_000);
    await a.setLogLevel('kept', 'info', 1_000);
    await b.touch('kept', 5_000);
    expect(await b.sweep(2_000)).toBe(1);
    expect((await a.lookup('old')).kind).toBe('unknown');
    expect((await a.lookup('kept')).kind).toBe('live');
  });
});

/** Collects what a handler receives. */
function inbox(): { got: BusMessage[]; handler: (message: BusMessage) => void } {
  const got: BusMessage[] = [];
  return { got, handler: (message) => void got.push(message) };
}

describe.each(buses)('MessageBus on %s', (name, open) => {
  it('delivers to the replica named, to all, and to the replica holding a session, nowhere else', async () => {
    const [a, b] = await open();
    const [toA, toB, sessionOnB] = [inbox(), inbox(), inbox()];
    a.onReplicaMessage(toA.handler);
    b.onReplicaMessage(toB.handler);
    b.subscribeSession('s1', sessionOnB.handler);
    await a.publish({ replica: 'b' }, 'ping', { n: 1 });
    await a.publish({ session: 's1' }, 'notify', { method: 'notifications/resources/updated' });
    await a.publish({ session: 'nobody-holds-this' }, 'notify', {});
    await b.publish({ all: true }, 'hello', null);
    await eventually('every delivery', async () => toA.got.length === 1 && toB.got.length === 2 && sessionOnB.got.length === 1, 5_000);
    expect(toB.got).toEqual([
      { from: 'a', to: { replica: 'b' }, type: 'ping', body: { n: 1 } },
      { from: 'b', to: { all: true }, type: 'hello', body: null },
    ]);
    expect(toA.got.map((m) => m.type)).toEqual(['hello']);
    expect(sessionOnB.got).toEqual([{ from: 'a', to: { session: 's1' }, type: 'notify', body: { method: 'notifications/resources/updated' } }]);
  });

  it('carries bodies past the 8000-byte NOTIFY limit intact and in order with small ones', async () => {
    const [a, b] = await open();
    const got = inbox();
    b.subscribeSession('s1', got.handler);
    const large = { text: 'é'.repeat(20_000), list: Array.from({ length: 500 }, (_, i) => i) };
    await a.publish({ session: 's1' }, 'n', { i: 1 });
    await a.publish({ session: 's1' }, 'n', { i: 2, large });
    await a.publish({ session: 's1' }, 'n', { i: 3 });
    await eventually('three messages', async () => got.got.length === 3, 5_000);
    expect(got.got.map((m) => (m.body as { i: number }).i)).toEqual([1, 2, 3]);
    expect(got.got[1]?.body).toEqual({ i: 2, large });
    if (name === 'postgres') {
      const [{ n }] = (await (a as PostgresMessageBus).pool.query<{ n: string }>('SELECT count(*) AS n FROM bus_payloads')).rows as [{ n: string }];
      expect(Number(n)).toBe(1);
    }
  });

  it('refuses a body over the limit or not JSON at publish, and a throwing handler stops no other', async () => {
    const [a, b] = await open();
    await expect(a.publish({ all: true }, 'big', 'x'.repeat(MAX_BUS_BODY_BYTES))).rejects.toThrow(/bytes/);
    await expect(a.publish({ all: true }, 'fn', () => 1)).rejects.toThrow(/JSON/);
    const got = inbox();
    b.onReplicaMessage(() => {
      throw new Error('handler bug');
    });
    b.onReplicaMessage(got.handler);
    await a.publish({ replica: 'b' }, 'ok', 1);
    await eventually('the message', async () => got.got.length === 1, 5_000);
  });

  it('stops delivering to an unsubscribed session handler', async () => {
    const [a, b] = await open();
    const [first, later] = [inbox(), inbox()];
    const stop = b.subscribeSession('s1', first.handler);
    b.onReplicaMessage(later.handler);
    stop();
    await a.publish({ session: 's1' }, 'lost', 1);
    await a.publish({ replica: 'b' }, 'marker', 2);
    await eventually('the marker', async () => later.got.length === 1, 5_000);
    expect(first.got).toEqual([]);
  });
});
