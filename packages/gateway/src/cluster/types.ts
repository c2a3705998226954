/**
 * What replicas of one gateway share besides the registry: the per-session state that
 * changes after `initialize` (log level, resource subscriptions), tombstones of ended
 * sessions, and a bus that carries messages to whichever replica holds a session's stream.
 * One process uses the memory implementations (today's behaviour); with
 * MESHGATE_DATABASE_URL the Postgres ones (postgres.ts) back them.
 */
import type { LoggingLevel } from '@modelcontextprotocol/server';

/** A resource subscription of a session: the URI the client subscribed to, and where it lives upstream. */
export interface SessionSubscription {
  uri: string;
  service: string;
  upstreamUri: string;
}

/** The per-session state a replica that first sees a session needs to serve it as the one that opened it. */
export interface SessionState {
  logLevel: LoggingLevel | undefined;
  /** Oldest first. */
  subscriptions: SessionSubscription[];
}

/** What the store knows of a session key: state, a tombstone (ended: answer 404), or nothing (a session nobody changed yet). */
export type SessionLookup = { kind: 'live'; state: SessionState } | { kind: 'ended' } | { kind: 'unknown' };

/**
 * Shared per-session state, keyed by a session key (at most 256 characters; the sealed
 * id's inner random id, say, rather than the whole id). Every write is durable when its
 * promise settles, so a replica reading after it sees it. Writes to an ended session are
 * ignored: a tombstone wins until it expires.
 */
export interface SessionStateStore {
  lookup(key: string): Promise<SessionLookup>;
  /** Sets (or with `undefined` clears) the session's `logging/setLevel`. `expiresAt` (epoch ms) is when its state may be forgotten if untouched. */
  setLogLevel(key: string, level: LoggingLevel | undefined, expiresAt: number): Promise<void>;
  /** Adds (or replaces, by `uri`) a subscription. */
  subscribe(key: string, subscription: SessionSubscription, expiresAt: number): Promise<void>;
  unsubscribe(key: string, uri: string): Promise<void>;
  /** Pushes the session's state expiry out (a session in use is not forgotten). */
  touch(key: string, expiresAt: number): Promise<void>;
  /** Ends the session: its state goes, and a tombstone stays until `tombstoneUntil` (epoch ms). */
  end(key: string, tombstoneUntil: number): Promise<void>;
  /** Forgets expired state and tombstones; returns how many went. Any replica may call it. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}

/** Where a bus message goes: the replica holding a session's stream, one replica, or every replica. */
export type BusAddress = { session: string } | { replica: string } | { all: true };

/** A message between replicas. `body` is JSON; the bus handles its size (NOTIFY's 8000 bytes). */
export interface BusMessage {
  /** The replica that sent it. */
  from: string;
  to: BusAddress;
  /** What it is, for the receiver's dispatch (e.g. 'notify', 'relay-answer'). */
  type: string;
  body: unknown;
}

export type BusHandler = (message: BusMessage) => void;

/**
 * Messages between replicas: at most once, in order per sender, no persistence (a replica
 * that is down misses what is sent meanwhile). Handlers must not throw; one that does is
 * logged and the others still run.
 */
export interface MessageBus {
  /** This replica's id (random per process unless given). */
  readonly replicaId: string;
  /** Resolves once the message is handed to the bus (not when it is delivered). Rejects a body that is not JSON or larger than `maxBodyBytes`. */
  publish(to: BusAddress, type: string, body: unknown): Promise<void>;
  /** Receives messages to `{ session: key }` while this replica holds that session's stream. Returns an unsubscribe. */
  subscribeSession(key: string, handler: BusHandler): () => void;
  /** Receives messages to this replica and to all. Returns an unsubscribe. */
  onReplicaMessage(handler: BusHandler): () => void;
  close(): Promise<void>;
}

/** Largest message body (serialised JSON) a bus carries; larger ones are refused at publish. */
export const MAX_BUS_BODY_BYTES = 1024 * 1024;
