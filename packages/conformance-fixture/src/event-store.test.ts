import { describe, expect, it } from 'vitest';
import { MemoryEventStore } from './event-store.js';

const message = (id: number) => ({ jsonrpc: '2.0' as const, id, result: {} });

describe('MemoryEventStore', () => {
  it('replays only the events after the given id, and only from the same stream', async () => {
    const store = new MemoryEventStore();
    const first = await store.storeEvent('a', message(1));
    await store.storeEvent('b', message(2));
    await store.storeEvent('a', message(3));
    const replayed: unknown[] = [];
    const stream = await store.replayEventsAfter(first, { send: async (_id, sent) => void replayed.push(sent) });
    expect(stream).toBe('a');
    expect(replayed).toEqual([message(3)]);
    expect(await store.getStreamIdForEventId(first)).toBe('a');
  });

  it('forgets the oldest events beyond its bound and refuses to replay from them', async () => {
    const store = new MemoryEventStore(2);
    const oldest = await store.storeEvent('a', message(1));
    await store.storeEvent('a', message(2));
    await store.storeEvent('a', message(3));
    await expect(store.replayEventsAfter(oldest, { send: async () => undefined })).rejects.toThrow(/Unknown event id/);
  });
});
