import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import { SessionRegistry } from './registry.js';
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
    const call = new AbortController();
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
    busy.calls.set(1, new AbortController());
    vi.advanceTimersByTime(5_000);
    expect(sessions.find(idle.id, who('a'))).toBeUndefined();
    expect(sessions.find(busy.id, who('b'))).toBe(busy);
    sessions.close();
  });
});
