import { describe, expect, it } from 'vitest';
import { type EventSink, eventId, eventIdKind, MAX_REPLAY_STREAMS, parseEventId, ReplayBudget, ReplayStream, SessionReplay } from './replay.js';

/** A connection that records what it is sent; `full` makes it refuse events, as a client that does not read. */
function sink() {
  const events: Array<[string, string]> = [];
  const state = { ended: false, full: false, last: undefined as { id: string; data: string } | undefined };
  const connection: EventSink = {
    write: (id, data) => {
      if (state.full || state.ended) return false;
      events.push([id, data]);
      return true;
    },
    end: (last) => {
      state.ended = true;
      state.last = last;
      if (last !== undefined) events.push([last.id, last.data]);
    },
  };
  return { connection, events, state };
}

const LIMITS = { events: 3, bytes: 1_000 };

describe('event ids', () => {
  it('name the stream and the place in it, and parse back', () => {
    const id = eventId('0123456789abcdef', 42);
    expect(id).toBe('0123456789abcdef.42');
    expect(parseEventId(id)).toEqual({ streamId: '0123456789abcdef', seq: 42 });
  });

  it.each([
    '',
    '42',
    'abc.1',
    '0123456789abcdef',
    '0123456789abcdef.',
    '0123456789abcdef.01',
    '0123456789ABCDEF.1',
    '0123456789abcdef.-1',
    `0123456789abcdef.${'9'.repeat(17)}`,
    'x'.repeat(10_000),
  ])('a value that is not one of the gateway ids (%j) names nothing', (value) => {
    expect(parseEventId(value)).toBeUndefined();
    expect(eventIdKind(value)).toBeUndefined();
  });

  it("tell a GET stream's ids from a POST stream's by the id alone, whichever session or replica made them", () => {
    const replay = new SessionReplay(LIMITS);
    for (let n = 0; n < 50; n += 1) {
      expect(eventIdKind(replay.open('get').primingId)).toBe('get');
      expect(eventIdKind(replay.open('post').primingId)).toBe('post');
    }
    expect(eventIdKind('7fffffffffffffff.3')).toBe('get');
    expect(eventIdKind('8000000000000000.3')).toBe('post');
  });
});

describe('ReplayStream', () => {
  it('numbers events from 1 after the priming id .0, and replays what came after an id, in order', () => {
    const stream = new ReplayStream('0123456789abcdef', 'get', LIMITS);
    expect(stream.primingId).toBe('0123456789abcdef.0');
    for (const n of [1, 2, 3]) stream.push(`{"n":${n}}`);
    const { connection, events } = sink();
    stream.attach(connection, 1);
    expect(events).toEqual([
      ['0123456789abcdef.2', '{"n":2}'],
      ['0123456789abcdef.3', '{"n":3}'],
    ]);
    stream.push('{"n":4}');
    expect(events.at(-1)).toEqual(['0123456789abcdef.4', '{"n":4}']);
  });

  it('evicts the oldest events past the count bound; an id before the evicted ones cannot be resumed, one after can', () => {
    const stream = new ReplayStream('0123456789abcdef', 'get', LIMITS);
    for (const n of [1, 2, 3, 4, 5]) stream.push(`{"n":${n}}`);
    expect(stream.holdsAfter(0)).toBe(false);
    expect(stream.holdsAfter(1)).toBe(false);
    expect(stream.holdsAfter(2)).toBe(true);
    expect(stream.holdsAfter(5)).toBe(true);
    expect(stream.holdsAfter(6)).toBe(false);
    const { connection, events } = sink();
    stream.attach(connection, 2);
    expect(events.map(([id]) => id)).toEqual(['0123456789abcdef.3', '0123456789abcdef.4', '0123456789abcdef.5']);
  });

  it('evicts past the byte bound, and never keeps more bytes than it', () => {
    const stream = new ReplayStream('0123456789abcdef', 'get', { events: 100, bytes: 10 });
    stream.push('123456');
    stream.push('abcdef');
    expect(stream.bytes).toBe(6);
    expect(stream.holdsAfter(1)).toBe(true);
    expect(stream.holdsAfter(0)).toBe(false);
    stream.push('x'.repeat(11));
    expect(stream.bytes).toBe(0);
    expect(stream.holdsAfter(3)).toBe(true);
    expect(stream.holdsAfter(2)).toBe(false);
  });

  it('with a bound of 0 events keeps nothing, so only the newest id can be resumed', () => {
    const stream = new ReplayStream('0123456789abcdef', 'get', { events: 0, bytes: 1_000 });
    stream.push('{}');
    expect(stream.bytes).toBe(0);
    expect(stream.holdsAfter(0)).toBe(false);
    expect(stream.holdsAfter(1)).toBe(true);
  });

  it('keeps what comes while no client is connected, and a request that cannot be sent live is not kept', () => {
    const stream = new ReplayStream('0123456789abcdef', 'post', LIMITS);
    const first = sink();
    stream.attach(first.connection, 0);
    stream.push('{"n":1}');
    stream.detach(first.connection);
    stream.push('{"n":2}');
    expect(stream.push('{"request":true}', true)).toBe(false);
    stream.finish('{"answer":true}');
    const second = sink();
    stream.attach(second.connection, 1);
    expect(second.events.map(([, data]) => data)).toEqual(['{"n":2}', '{"answer":true}']);
    expect(second.state.ended).toBe(true);
  });

  it('writes the answer with the end of the connection even when the connection takes nothing more', () => {
    const stream = new ReplayStream('0123456789abcdef', 'post', LIMITS);
    const { connection, events, state } = sink();
    stream.attach(connection, 0);
    state.full = true;
    stream.push('{"progress":1}');
    stream.finish('{"answer":true}');
    expect(events).toEqual([['0123456789abcdef.2', '{"answer":true}']]);
  });

  it('a client reconnecting ends the connection it lost, and only the new one gets what follows', () => {
    const stream = new ReplayStream('0123456789abcdef', 'get', LIMITS);
    const old = sink();
    stream.attach(old.connection, 0);
    stream.push('{"n":1}');
    const fresh = sink();
    stream.attach(fresh.connection, 1);
    stream.push('{"n":2}');
    expect(old.state.ended).toBe(true);
    expect(old.events).toHaveLength(1);
    expect(fresh.events).toEqual([['0123456789abcdef.2', '{"n":2}']]);
  });

  it('a replay that does not fit the connection ends it, rather than leave a gap before the live events', () => {
    const stream = new ReplayStream('0123456789abcdef', 'get', LIMITS);
    stream.push('{"n":1}');
    const { connection, state } = sink();
    state.full = true;
    stream.attach(connection, 0);
    expect(state.ended).toBe(true);
    expect(stream.connected).toBe(false);
  });
});

describe('SessionReplay', () => {
  it('finds a stream by the id of one of its events; an id of another session names nothing here', () => {
    const mine = new SessionReplay(LIMITS);
    const theirs = new SessionReplay(LIMITS);
    const stream = mine.open('post');
    stream.push('{}');
    const other = theirs.open('post');
    other.push('{"secret":true}');
    expect(mine.find(eventId(stream.id, 1))).toEqual({ stream, seq: 1 });
    expect(mine.find(eventId(other.id, 1))).toBeUndefined();
    expect(mine.find('garbage')).toBeUndefined();
    expect(mine.find(eventId(stream.id, 2))).toBeUndefined();
  });

  it('a new GET stream replaces the old one, whose ids then name nothing', () => {
    const replay = new SessionReplay(LIMITS);
    const old = replay.open('get');
    replay.open('get');
    expect(replay.find(old.primingId)).toBeUndefined();
    expect(replay.size).toBe(1);
  });

  it(`keeps at most ${MAX_REPLAY_STREAMS} streams, freeing finished ones first`, () => {
    const replay = new SessionReplay(LIMITS);
    const running = replay.open('post');
    const finished = replay.open('post');
    finished.finish('{}');
    for (let i = 2; i < MAX_REPLAY_STREAMS; i += 1) replay.open('post');
    expect(replay.size).toBe(MAX_REPLAY_STREAMS);
    replay.open('post');
    expect(replay.size).toBe(MAX_REPLAY_STREAMS);
    expect(replay.find(finished.primingId)).toBeUndefined();
    expect(replay.find(running.primingId)).toBeDefined();
  });

  it('streams of all sessions share one byte budget: past it the stream that records evicts its own oldest, and a closed one gives its bytes back', () => {
    const budget = new ReplayBudget(20);
    const quiet = new SessionReplay({ events: 100, bytes: 1_000 }, budget).open('get');
    const busy = new SessionReplay({ events: 100, bytes: 1_000 }, budget).open('get');
    quiet.push('0123456789');
    for (let i = 0; i < 5; i += 1) busy.push('abcdefghij');
    expect(budget.used).toBeLessThanOrEqual(20);
    expect(quiet.bytes).toBe(10);
    expect(busy.bytes).toBe(10);
    expect(busy.holdsAfter(4)).toBe(true);
    expect(busy.holdsAfter(3)).toBe(false);
    busy.close();
    expect(budget.used).toBe(10);
  });

  it('close frees every stream and ends their connections', () => {
    const replay = new SessionReplay(LIMITS);
    const stream = replay.open('get');
    const { connection, state } = sink();
    stream.attach(connection, 0);
    stream.push('{"n":1}');
    replay.close();
    expect(state.ended).toBe(true);
    expect(replay.size).toBe(0);
    expect(replay.bytes).toBe(0);
    expect(stream.push('{"n":2}')).toBe(false);
  });
});
