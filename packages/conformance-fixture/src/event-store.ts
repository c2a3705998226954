/**
 * An in-memory event store for SSE resumability: every message sent on a stream gets
 * an id, and a client that reconnects with `Last-Event-ID` is replayed what followed it
 * on the same stream. Bounded so a long-lived fixture does not grow without limit.
 */
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

interface StoredEvent {
  readonly streamId: StreamId;
  readonly message: JSONRPCMessage;
}

export class MemoryEventStore implements EventStore {
  readonly #events = new Map<EventId, StoredEvent>();
  readonly #maxEvents: number;
  #next = 0;

  constructor(maxEvents = 10_000) {
    this.#maxEvents = maxEvents;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${streamId}.${++this.#next}`;
    this.#events.set(id, { streamId, message });
    if (this.#events.size > this.#maxEvents) {
      const oldest = this.#events.keys().next().value;
      if (oldest !== undefined) this.#events.delete(oldest);
    }
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.#events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const last = this.#events.get(lastEventId);
    if (last === undefined) throw new Error(`Unknown event id ${lastEventId}`);
    let after = false;
    // Map iteration follows insertion order, which is the order events were sent.
    for (const [id, event] of this.#events) {
      if (after && event.streamId === last.streamId) await send(id, event.message);
      if (id === lastEventId) after = true;
    }
    return last.streamId;
  }
}
