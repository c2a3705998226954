/**
 * The one-process implementations: what a single gateway does today, and what tests of
 * several "replicas" in one process share (one `MemoryBusHub`, one `MemorySessionStateStore`).
 */
import { randomUUID } from 'node:crypto';
import type { LoggingLevel } from '@modelcontextprotocol/server';
import { BusRouter, checkBody } from './bus-router.js';
import type { BusAddress, BusHandler, MessageBus, SessionLookup, SessionStateStore, SessionSubscription } from './types.js';

interface Entry {
  logLevel: LoggingLevel | undefined;
  subscriptions: Map<string, SessionSubscription>;
  expiresAt: number;
}

export class MemorySessionStateStore implements SessionStateStore {
  readonly #live = new Map<string, Entry>();
  readonly #ended = new Map<string, number>();

  async lookup(key: string): Promise<SessionLookup> {
    if (this.#ended.has(key)) return { kind: 'ended' };
    const entry = this.#live.get(key);
    if (entry === undefined) return { kind: 'unknown' };
    return { kind: 'live', state: { logLevel: entry.logLevel, subscriptions: [...entry.subscriptions.values()].map((s) => ({ ...s })) } };
  }

  #entry(key: string, expiresAt: number): Entry | undefined {
    if (this.#ended.has(key)) return undefined;
    let entry = this.#live.get(key);
    if (entry === undefined) {
      entry = { logLevel: undefined, subscriptions: new Map(), expiresAt };
      this.#live.set(key, entry);
    }
    entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
    return entry;
  }

  async setLogLevel(key: string, level: LoggingLevel | undefined, expiresAt: number): Promise<void> {
    const entry = this.#entry(key, expiresAt);
    if (entry !== undefined) entry.logLevel = level;
  }

  async subscribe(key: string, subscription: SessionSubscription, expiresAt: number): Promise<void> {
    this.#entry(key, expiresAt)?.subscriptions.set(subscription.uri, { ...subscription });
  }

  async unsubscribe(key: string, uri: string): Promise<void> {
    this.#live.get(key)?.subscriptions.delete(uri);
  }

  async touch(key: string, expiresAt: number): Promise<void> {
    const entry = this.#live.get(key);
    if (entry !== undefined) entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
  }

  async end(key: string, tombstoneUntil: number): Promise<void> {
    this.#live.delete(key);
    this.#ended.set(key, Math.max(this.#ended.get(key) ?? 0, tombstoneUntil));
  }

  async sweep(now: number): Promise<number> {
    let gone = 0;
    for (const [key, entry] of this.#live) if (entry.expiresAt <= now && this.#live.delete(key)) gone += 1;
    for (const [key, until] of this.#ended) if (until <= now && this.#ended.delete(key)) gone += 1;
    return gone;
  }

  async close(): Promise<void> {}
}

/** Several buses in one process that reach each other: one per simulated replica. */
export class MemoryBusHub {
  readonly #buses = new Set<MemoryBus>();

  /** A bus for one replica, on this hub. */
  bus(replicaId: string = randomUUID()): MessageBus {
    const bus = new MemoryBus(replicaId, this.#buses);
    this.#buses.add(bus);
    return bus;
  }
}

class MemoryBus implements MessageBus {
  readonly #router: BusRouter;
  #closed = false;

  constructor(
    readonly replicaId: string,
    readonly peers: Set<MemoryBus>,
  ) {
    this.#router = new BusRouter(replicaId);
  }

  async publish(to: BusAddress, type: string, body: unknown): Promise<void> {
    if (this.#closed) throw new Error('the message bus is closed');
    const text = checkBody(body);
    // Delivered after the caller's turn, as a network bus would, and as a copy (never shared objects).
    for (const peer of this.peers) queueMicrotask(() => peer.#router.deliver({ from: this.replicaId, to, type, body: JSON.parse(text) }));
  }

  subscribeSession(key: string, handler: BusHandler): () => void {
    return this.#router.subscribeSession(key, handler);
  }

  onReplicaMessage(handler: BusHandler): () => void {
    return this.#router.onReplicaMessage(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.peers.delete(this);
    this.#router.clear();
  }
}
