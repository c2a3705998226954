import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GatewayIdentity } from '../auth/tokens.js';
import { MemoryBusHub, MemorySessionStateStore } from '../cluster/memory.js';
import { GatewayError } from '../errors.js';
import { Cancellation } from '../federation/cancel.js';
import { type SessionCluster, type SessionLimits, SessionRegistry } from './registry.js';
import { SessionSealer } from './sealed.js';
import type { Handshake, Outbox } from './session.js';

const logger = pino({ level: 'silent' });
const handshake: Handshake = { protocolVersion: '2025-06-18', clientCapabilities: {}, offered: { tools: {} } };
const who = (name: string): GatewayIdentity => ({ name, roles: new Set(['client']) });

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionRegistry', () => {
  it('finds a session only for the identity that opened it', () => {
    const sessions = new SessionRegistry({}, logger);
    const session = sessions.open(who('alice'), handshake);
    expect(sessions.find(session.id, who('alice'))).toBe(session);
    expect(sessions.find(session.id, who('bob'))).toBeUndefined();
    expect(sessions.find('not-an-id', who('alice'))).toBeUndefined();
    sessions.close();
  });

  it('caps sessions per identity, so one client cannot fill the table; the others still open theirs', () => {
    const sessions = new SessionRegistry({ maxSessions: 10, maxPerIdentity: 2 }, logger);
    sessions.open(who('greedy'), handshake);
    const second = sessions.open(who('greedy'), handshake);
    expect(() => sessions.open(who('greedy'), handshake)).toThrow(GatewayError);
    expect(sessions.open(who('polite'), handshake)).toBeDefined();
    sessions.delete(second);
    expect(sessions.open(who('greedy'), handshake)).toBeDefined();
    sessions.close();
  });

  it('refuses past the global cap with too_many_sessions and Retry-After', () => {
    const sessions = new SessionRegistry({ maxSessions: 1, maxPerIdentity: 1 }, logger);
    sessions.open(who('a'), handshake);
    try {
      sessions.open(who('b'), handshake);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'too_many_sessions', status: 503, headers: { 'retry-after': '5' } });
    }
    sessions.close();
  });

  it('ending a session stops its calls, fails its pending relays, ends its stream and tells the listeners', () => {
    const sessions = new SessionRegistry({}, logger);
    const session = sessions.open(who('alice'), handshake);
    const call = new Cancellation();
    session.calls.set(1, call);
    const relay = { resolve: vi.fn(), reject: vi.fn() };
    session.relays.set('r1', relay);
    const stream: Outbox = { notify: vi.fn(), request: vi.fn(), close: vi.fn(), connected: true };
    session.stream = stream;
    const kept = session.replay.open('post');
    kept.push('{"jsonrpc":"2.0","method":"notifications/progress"}');
    const closed = vi.fn();
    sessions.onClose(closed);
    sessions.delete(session);
    expect(call.signal.aborted).toBe(true);
    expect(relay.reject).toHaveBeenCalled();
    expect(stream.close).toHaveBeenCalled();
    expect(session.replay.size).toBe(0);
    expect(kept.bytes).toBe(0);
    expect(closed).toHaveBeenCalledWith(session);
    expect(sessions.size).toBe(0);
    expect(sessions.find(session.id, who('alice'))).toBeUndefined();
  });

  it('a listener that throws does not stop the others', () => {
    const sessions = new SessionRegistry({}, logger);
    const session = sessions.open(who('alice'), handshake);
    const after = vi.fn();
    sessions.onClose(() => {
      throw new Error('broken listener');
    });
    sessions.onClose(after);
    sessions.delete(session);
    expect(after).toHaveBeenCalled();
  });

  it('closes idle sessions, but not one with a call in flight', () => {
    vi.useFakeTimers();
    const sessions = new SessionRegistry({ idleMs: 2_000 }, logger);
    const idle = sessions.open(who('a'), handshake);
    const busy = sessions.open(who('b'), handshake);
    busy.calls.set(1, new Cancellation());
    vi.advanceTimersByTime(5_000);
    expect(sessions.find(idle.id, who('a'))).toBeUndefined();
    expect(sessions.find(busy.id, who('b'))).toBe(busy);
    sessions.close();
  });
});

describe('SessionRegistry with several replicas (sealed ids, shared state)', () => {
  const keys = [Buffer.alloc(32, 1)];
  /** Replicas in one process: one state store and one bus hub, as the Postgres ones are shared. */
  function replicas(count: number, limits: Partial<SessionLimits> = {}) {
    const state = new MemorySessionStateStore();
    const hub = new MemoryBusHub();
    const made = Array.from({ length: count }, (_, n) => {
      const cluster: SessionCluster = { sealer: new SessionSealer(keys), state, bus: hub.bus(`replica-${n}`) };
      return new SessionRegistry(limits, logger, cluster);
    });
    return { state, all: made };
  }

  it('any replica rebuilds a session opened on another from its sealed id, for its identity only', async () => {
    const { all } = replicas(2);
    const [a, b] = all as [SessionRegistry, SessionRegistry];
    const opened = a.open(who('alice'), { ...handshake, clientCapabilities: { sampling: {} } });
    expect(opened.id.startsWith('s1.')).toBe(true);
    expect(await b.resolve(opened.id, who('bob'))).toBeUndefined();
    const rebuilt = await b.resolve(opened.id, who('alice'));
    expect(rebuilt).toMatchObject({ id: opened.id, key: opened.key, createdAt: opened.createdAt, handshake: opened.handshake });
    expect(rebuilt?.takes('sampling/createMessage')).toBe(true);
    // Cached from then on: the same object, no second rebuild.
    expect(await b.resolve(opened.id, who('alice'))).toBe(rebuilt);
    expect(b.find(opened.id, who('alice'))).toBe(rebuilt);
    for (const r of all) r.close();
  });

  it('two requests at once for an unseen id rebuild one session', async () => {
    const { all } = replicas(2);
    const [a, b] = all as [SessionRegistry, SessionRegistry];
    const opened = a.open(who('alice'), handshake);
    const [one, two] = await Promise.all([b.resolve(opened.id, who('alice')), b.resolve(opened.id, who('alice'))]);
    expect(one).toBeDefined();
    expect(one).toBe(two);
    expect(b.size).toBe(1);
    for (const r of all) r.close();
  });

  it('a rebuilt session takes the log level and subscriptions the shared store holds', async () => {
    const { all, state } = replicas(2);
    const [a, b] = all as [SessionRegistry, SessionRegistry];
    const opened = a.open(who('alice'), handshake);
    await state.setLogLevel(opened.key, 'warning', Date.now() + 60_000);
    await state.subscribe(opened.key, { uri: 'res://a', service: 'svc', upstreamUri: 'file:///a' }, Date.now() + 60_000);
    const rebuilt = await b.resolve(opened.id, who('alice'));
    expect(rebuilt?.logLevel).toBe('warning');
    expect([...(rebuilt?.subscribed ?? [])]).toEqual([['res://a', { service: 'svc', upstreamUri: 'file:///a' }]]);
    for (const r of all) r.close();
  });

  it('a session ended on one replica is not found on any: tombstone for the unseen, the bus for those that cached it', async () => {
    const { all } = replicas(3);
    const [a, b, c] = all as [SessionRegistry, SessionRegistry, SessionRegistry];
    const opened = a.open(who('alice'), handshake);
    const cached = await b.resolve(opened.id, who('alice'));
    expect(cached).toBeDefined();
    await a.end(opened);
    expect(a.find(opened.id, who('alice'))).toBeUndefined();
    await vi.waitFor(() => expect(b.find(opened.id, who('alice'))).toBeUndefined());
    expect(cached?.closed).toBe(true);
    expect(await b.resolve(opened.id, who('alice'))).toBeUndefined();
    expect(await c.resolve(opened.id, who('alice'))).toBeUndefined();
    expect(await a.resolve(opened.id, who('alice'))).toBeUndefined();
    for (const r of all) r.close();
  });

  it('refuses an id past the maximum age, a tampered one, one of another key list, and a random one, like an unknown id', async () => {
    const { all } = replicas(2, { maxAgeMs: 60_000 });
    const [a, b] = all as [SessionRegistry, SessionRegistry];
    const opened = a.open(who('alice'), handshake);
    const stranger = new SessionRegistry({}, logger, {
      sealer: new SessionSealer([Buffer.alloc(32, 2)]),
      state: new MemorySessionStateStore(),
      bus: new MemoryBusHub().bus(),
    });
    expect(await stranger.resolve(opened.id, who('alice'))).toBeUndefined();
    const tampered = `${opened.id.slice(0, -3)}${opened.id.endsWith('A') ? 'B' : 'A'}${opened.id.slice(-2)}`;
    expect(await b.resolve(tampered, who('alice'))).toBeUndefined();
    expect(await b.resolve(crypto.randomUUID(), who('alice'))).toBeUndefined();
    vi.useFakeTimers({ now: Date.now() + 61_000, toFake: ['Date'] });
    expect(await b.resolve(opened.id, who('alice'))).toBeUndefined();
    for (const r of [...all, stranger]) r.close();
  });

  it('an idle session is only forgotten by the replica that idled: another one rebuilds it', async () => {
    const { all } = replicas(2, { idleMs: 2_000 });
    const [a, b] = all as [SessionRegistry, SessionRegistry];
    const opened = a.open(who('alice'), handshake);
    a.delete(opened);
    expect(a.find(opened.id, who('alice'))).toBeUndefined();
    expect(await b.resolve(opened.id, who('alice'))).toBeDefined();
    expect(await a.resolve(opened.id, who('alice'))).toBeDefined();
    for (const r of all) r.close();
  });

  it('counts a rebuilt session against the caps of the replica that rebuilds it', async () => {
    const { all } = replicas(2, { maxSessions: 1, maxPerIdentity: 1 });
    const [a, b] = all as [SessionRegistry, SessionRegistry];
    const first = a.open(who('alice'), handshake);
    b.open(who('bob'), handshake);
    await expect(b.resolve(first.id, who('alice'))).rejects.toMatchObject({ code: 'too_many_sessions' });
    for (const r of all) r.close();
  });
});

describe('what crosses replicas for a session', () => {
  function pair() {
    const state = new MemorySessionStateStore();
    const hub = new MemoryBusHub();
    const make = (name: string) => new SessionRegistry({}, logger, { sealer: new SessionSealer([Buffer.alloc(32, 5)]), state, bus: hub.bus(name) });
    return { state, a: make('replica-a'), b: make('replica-b') };
  }
  const outbox = (): Outbox & { sent: unknown[] } => {
    const sent: unknown[] = [];
    return { sent, notify: (method, params) => void sent.push({ method, params }), request: () => true, close: () => {}, connected: true };
  };

  it("a resource update taken on a replica without the session's stream reaches the replica that holds it, once", async () => {
    const { a, b } = pair();
    const onA = a.open(who('alice'), handshake);
    const onB = (await b.resolve(onA.id, who('alice'))) as NonNullable<Awaited<ReturnType<typeof b.resolve>>>;
    const stream = outbox();
    b.attachStream(onB, stream);
    onA.resourceUpdated('res://x');
    await vi.waitFor(() => expect(stream.sent).toEqual([{ method: 'notifications/resources/updated', params: { uri: 'res://x' } }]));
    // The holder delivers its own updates itself.
    onB.resourceUpdated('res://y');
    expect(stream.sent).toHaveLength(2);
    a.close();
    b.close();
  });

  it('a log level or subscription set through one replica is written to the store and applied on the others', async () => {
    const { a, b, state } = pair();
    const onA = a.open(who('alice'), handshake);
    const onB = await b.resolve(onA.id, who('alice'));
    const heard: string[] = [];
    b.onRemoteChange((_session, change) => void heard.push(change.kind));
    onA.logLevel = 'error';
    await onA.share?.({ kind: 'logLevel', level: 'error' });
    await onA.share?.({ kind: 'subscribed', uri: 'res://x', service: 's', upstreamUri: 'u://x' });
    await vi.waitFor(() => expect(onB?.logLevel).toBe('error'));
    await vi.waitFor(() => expect(onB?.subscribed.get('res://x')).toEqual({ service: 's', upstreamUri: 'u://x' }));
    expect(await state.lookup(onA.key)).toEqual({
      kind: 'live',
      state: { logLevel: 'error', subscriptions: [{ uri: 'res://x', service: 's', upstreamUri: 'u://x' }] },
    });
    await onA.share?.({ kind: 'unsubscribed', uri: 'res://x' });
    await vi.waitFor(() => expect(onB?.subscribed.size).toBe(0));
    expect(heard).toEqual(['logLevel', 'subscribed', 'unsubscribed']);
    a.close();
    b.close();
  });

  it("a client's answer to a request relayed from another replica is passed to that replica; one to this replica's is not", async () => {
    const { a, b } = pair();
    const onA = a.open(who('alice'), { ...handshake, clientCapabilities: { sampling: {} } });
    const onB = (await b.resolve(onA.id, who('alice'))) as NonNullable<Awaited<ReturnType<typeof b.resolve>>>;
    const relayIds: string[] = [];
    const asked = onA.ask(outbox(), 'sampling/createMessage', {}, (id) => void relayIds.push(id));
    expect(relayIds[0]).toMatch(/^meshgate-relay-replica-a\.1$/);
    const taken: unknown[] = [];
    a.onRelayAnswer((session, message) => {
      taken.push(message);
      session.relays.get(String(message.id))?.resolve(message.result as Record<string, unknown>);
    });
    await b.forwardAnswer(onB, { jsonrpc: '2.0', id: relayIds[0] as string, result: { content: 'yes' } });
    await expect(asked).resolves.toEqual({ content: 'yes' });
    expect(taken).toHaveLength(1);
    // An id of this replica's own, or of no replica, goes nowhere.
    await a.forwardAnswer(onA, { jsonrpc: '2.0', id: 'meshgate-relay-replica-a.9', result: {} });
    await b.forwardAnswer(onB, { jsonrpc: '2.0', id: 'something-else', result: {} });
    await new Promise((wake) => setImmediate(wake));
    expect(taken).toHaveLength(1);
    a.close();
    b.close();
  });

  it('an answer the bus cannot carry is refused with relay_unreachable, not left waiting', async () => {
    const { a, b } = pair();
    const onA = a.open(who('alice'), handshake);
    const onB = (await b.resolve(onA.id, who('alice'))) as NonNullable<Awaited<ReturnType<typeof b.resolve>>>;
    const huge = { jsonrpc: '2.0' as const, id: 'meshgate-relay-replica-a.1', result: { text: 'x'.repeat(1_100_000) } };
    await expect(b.forwardAnswer(onB, huge)).rejects.toMatchObject({ code: 'relay_unreachable', status: 503 });
    a.close();
    b.close();
  });
});
