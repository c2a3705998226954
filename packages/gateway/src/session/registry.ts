import { randomUUID } from 'node:crypto';
import type { JsonRpcResponseMessage } from '@meshgate/service-kit';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { BusMessage, MessageBus, SessionStateStore } from '../cluster/types.js';
import { GatewayError } from '../errors.js';
import type { SessionChange } from '../federation/context.js';
import { DEFAULT_REPLAY_LIMITS, DEFAULT_REPLAY_TOTAL_BYTES, ReplayBudget } from './replay.js';
import type { SessionSealer } from './sealed.js';
import { type Handshake, type Outbox, Session } from './session.js';

export interface SessionLimits {
  /** A session unused for this long is closed. */
  idleMs: number;
  /** Open sessions in all. */
  maxSessions: number;
  /** Open sessions of one identity (a token's name, a JWT's subject), so that one client cannot fill the table for everyone. */
  maxPerIdentity: number;
  /** Events each of a session's streams keeps for a client that reconnects (replay.ts). */
  replayEvents: number;
  /** Bytes each of a session's streams keeps for a client that reconnects. */
  replayBytes: number;
  /** Bytes all sessions together keep for replay; past it a stream evicts its own oldest events. */
  replayTotalBytes: number;
  /** A sealed session id is accepted this long after it was issued, by any replica (then 404: initialize again). */
  maxAgeMs: number;
}

/**
 * What replicas share so that any of them serves any session (docs/sessions.md): the key
 * list that seals ids, the store of per-session state and tombstones, and the bus that
 * tells the others a session ended.
 */
export interface SessionCluster {
  sealer: SessionSealer;
  state: SessionStateStore;
  bus: MessageBus;
}

/** Bus messages between replicas about sessions. */
const BUS = {
  /** A session ended (DELETE on some replica): every replica forgets it. `{ key }` to all. */
  ended: 'session-ended',
  /** A session's state changed (log level, subscriptions): every replica caching it applies it. `{ key, change }` to all. */
  changed: 'session-changed',
  /** A client's answer to a request relayed from another replica. `{ key, message }` to that replica. */
  relayAnswer: 'relay-answer',
  /** A notification for the session's GET stream, sent by a replica that does not hold it. `{ method, params }` to the session. */
  notify: 'session-notify',
} as const;

/** A relayed request's id names the replica it was sent from: `meshgate-relay-<replica>.<n>`. */
const RELAY_ID = /^meshgate-relay-([A-Za-z0-9-]{1,64})\.\d+$/;

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 30 * 60_000,
  maxSessions: 10_000,
  maxPerIdentity: 1_000,
  replayEvents: DEFAULT_REPLAY_LIMITS.events,
  replayBytes: DEFAULT_REPLAY_LIMITS.bytes,
  replayTotalBytes: DEFAULT_REPLAY_TOTAL_BYTES,
  maxAgeMs: 24 * 60 * 60_000,
};

/**
 * The open sessions, by id: the one registry every path asks. A session is bound to the
 * identity that opened it; another identity asking for its id is told it does not exist,
 * so neither learns of the other. Idle sessions are closed by a reaper.
 *
 * With a `SessionCluster` (several replicas), ids are sealed (sealed.ts) and this map is a
 * cache: a replica that is asked for an id it never saw opens it, checks the shared store
 * for a tombstone and the state that changed since (log level, subscriptions), and
 * rebuilds the session. DELETE leaves a tombstone and tells every replica to forget it; an
 * idle session is only forgotten here (another replica may be serving it).
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #perIdentity = new Map<string, number>();
  readonly #closeListeners = new Set<(session: Session) => void>();
  readonly #streamListeners = new Set<(session: Session) => void>();
  readonly #limits: SessionLimits;
  readonly #replayBudget: ReplayBudget;
  readonly #reaper: NodeJS.Timeout;
  readonly #cluster: SessionCluster | undefined;
  /** Sessions being rebuilt from their sealed ids, so two requests at once rebuild one. */
  readonly #rebuilding = new Map<string, Promise<Session | undefined>>();
  readonly #byKey = new Map<string, Session>();
  readonly #stopBus: (() => void) | undefined;
  /** The bus subscriptions of the sessions whose GET stream this replica holds. */
  readonly #streamSubscriptions = new Map<Session, () => void>();
  readonly #changeListeners = new Set<(session: Session, change: SessionChange) => void>();
  readonly #answerListeners = new Set<(session: Session, message: JsonRpcResponseMessage) => void>();

  constructor(
    limits: Partial<SessionLimits>,
    private readonly logger: Logger,
    cluster?: SessionCluster,
  ) {
    this.#limits = { ...DEFAULT_SESSION_LIMITS, ...limits };
    this.#cluster = cluster;
    this.#stopBus = cluster?.bus.onReplicaMessage((message) => this.#fromReplica(message));
    this.#replayBudget = new ReplayBudget(this.#limits.replayTotalBytes);
    const sweepEvery = Math.max(1_000, Math.min(60_000, this.#limits.idleMs / 2));
    this.#reaper = setInterval(() => this.#reapIdle(), sweepEvery);
    this.#reaper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Bytes all open sessions keep for replay now. */
  get replayBytes(): number {
    return this.#replayBudget.used;
  }

  values(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /** Opens a session for `identity` (on virtual server `server`, else `/mcp`); `too_many_sessions` when the table or the identity's share of it is full. */
  open(identity: GatewayIdentity, handshake: Handshake, server?: string): Session {
    this.#admit(identity);
    if (this.#cluster === undefined)
      return this.#add(new Session(randomUUID(), identity, handshake, this.#replayLimits, this.#replayBudget, undefined, undefined, server));
    const now = Date.now();
    const { id, key } = this.#cluster.sealer.seal(identity.name, handshake, now, server);
    return this.#add(new Session(id, identity, handshake, this.#replayLimits, this.#replayBudget, key, now, server));
  }

  /** What another replica says of a session this one may cache. */
  #fromReplica(message: BusMessage): void {
    if (this.#cluster === undefined || message.from === this.#cluster.bus.replicaId) return;
    const body = message.body as { key?: unknown; change?: SessionChange; message?: JsonRpcResponseMessage } | null;
    const session = typeof body?.key === 'string' ? this.#byKey.get(body.key) : undefined;
    if (session === undefined || body === null) return;
    if (message.type === BUS.ended) this.#forget(session);
    else if (message.type === BUS.changed && body.change !== undefined) this.#apply(session, body.change);
    else if (message.type === BUS.relayAnswer && body.message !== undefined) {
      for (const listener of this.#answerListeners) listener(session, body.message);
    }
  }

  #apply(session: Session, change: SessionChange): void {
    // The listeners first: one that holds the subscription upstream needs its entry before it goes.
    for (const listener of this.#changeListeners) {
      try {
        listener(session, change);
      } catch (error) {
        this.logger.error({ err: error, session: session.key }, 'a session change listener failed');
      }
    }
    if (change.kind === 'logLevel') session.logLevel = change.level;
    else if (change.kind === 'subscribed') session.subscribed.set(change.uri, { service: change.service, upstreamUri: change.upstreamUri });
    else session.subscribed.delete(change.uri);
  }

  /** Calls `listener` when another replica changed the state of a session this one caches (before it is applied here). */
  onRemoteChange(listener: (session: Session, change: SessionChange) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** Calls `listener` with a client's answer to a request this replica relayed, which reached another replica. */
  onRelayAnswer(listener: (session: Session, message: JsonRpcResponseMessage) => void): () => void {
    this.#answerListeners.add(listener);
    return () => this.#answerListeners.delete(listener);
  }

  /**
   * A client's answer to a relayed request this replica is not waiting for: if the id names
   * another replica, it is passed there over the bus. Throws `relay_unreachable` when the bus
   * refuses it (closed, too large), so the client is told rather than left waiting.
   */
  async forwardAnswer(session: Session, message: JsonRpcResponseMessage): Promise<void> {
    const cluster = this.#cluster;
    const replica = typeof message.id === 'string' ? RELAY_ID.exec(message.id)?.[1] : undefined;
    if (cluster === undefined || replica === undefined || replica === cluster.bus.replicaId) return;
    try {
      await cluster.bus.publish({ replica }, BUS.relayAnswer, { key: session.key, message });
    } catch (error) {
      throw new GatewayError(
        'relay_unreachable',
        `The answer to ${message.id} could not be passed to the gateway replica waiting for it (${(error as Error).message}); the request it answers will fail`,
      );
    }
  }

  /** With several replicas: how a session reaches the shared store and the others. */
  #wire(session: Session): void {
    const cluster = this.#cluster;
    if (cluster === undefined) return;
    session.relayTag = `${cluster.bus.replicaId}.`;
    const expiresAt = session.createdAt + this.#limits.maxAgeMs;
    session.forward = (method, params) => {
      cluster.bus.publish({ session: session.key }, BUS.notify, { method, params }).catch((error: unknown) => {
        if (session.firstTime('forward'))
          this.logger.warn({ err: error, session: session.key }, 'could not pass a notification to the replica holding the stream');
      });
    };
    session.share = async (change) => {
      if (change.kind === 'logLevel') await cluster.state.setLogLevel(session.key, change.level, expiresAt);
      else if (change.kind === 'subscribed') {
        await cluster.state.subscribe(session.key, { uri: change.uri, service: change.service, upstreamUri: change.upstreamUri }, expiresAt);
      } else await cluster.state.unsubscribe(session.key, change.uri);
      await cluster.bus.publish({ all: true }, BUS.changed, { key: session.key, change });
    };
  }

  get #replayLimits() {
    return { events: this.#limits.replayEvents, bytes: this.#limits.replayBytes };
  }

  /** Throws `too_many_sessions` when the table or `identity`'s share of it is full. */
  #admit(identity: GatewayIdentity): void {
    const mine = this.#perIdentity.get(identity.name) ?? 0;
    if (this.#sessions.size >= this.#limits.maxSessions) {
      throw new GatewayError('too_many_sessions', 'Too many open sessions; try again later', undefined, { 'retry-after': '5' });
    }
    if (mine >= this.#limits.maxPerIdentity) {
      throw new GatewayError(
        'too_many_sessions',
        `This token already has ${mine} open sessions, the most one token may hold; end some (DELETE /mcp) or let them expire`,
        undefined,
        { 'retry-after': '5' },
      );
    }
  }

  #add(session: Session): Session {
    this.#wire(session);
    this.#sessions.set(session.id, session);
    this.#byKey.set(session.key, session);
    this.#perIdentity.set(session.identity.name, (this.#perIdentity.get(session.identity.name) ?? 0) + 1);
    return session;
  }

  /** The open session `id`, whoever opened it: for the gateway's own messages to it, never for a client's request. */
  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /**
   * The session `id` if it is open, `identity` opened it, and on the same endpoint (virtual
   * server `server`, else `/mcp`); its idle clock restarts. Undefined otherwise.
   */
  find(id: string, identity: GatewayIdentity, server?: string): Session | undefined {
    const session = this.#sessions.get(id);
    if (session === undefined || session.identity.name !== identity.name || session.server !== server) return undefined;
    session.lastSeen = Date.now();
    return session;
  }

  /**
   * Like `find`, and with several replicas also a session opened by another one: a sealed
   * id that opens under a listed key, belongs to `identity`, is younger than the maximum
   * age and has no tombstone is rebuilt here (with the state the shared store holds).
   * Anything else is undefined, the same "not found" as an unknown id.
   */
  async resolve(id: string, identity: GatewayIdentity, server?: string): Promise<Session | undefined> {
    const cached = this.#sessions.get(id);
    if (cached !== undefined || this.#cluster === undefined) return this.find(id, identity, server);
    const sealed = this.#cluster.sealer.open(id);
    if (sealed === undefined || sealed.identity !== identity.name || sealed.server !== server) return undefined;
    if (sealed.issuedAt + this.#limits.maxAgeMs <= Date.now()) return undefined;
    let rebuilding = this.#rebuilding.get(id);
    if (rebuilding === undefined) {
      const cluster = this.#cluster;
      rebuilding = (async () => {
        try {
          const known = await cluster.state.lookup(sealed.key);
          if (known.kind === 'ended') return undefined;
          const again = this.#sessions.get(id);
          if (again !== undefined) return again;
          this.#admit(identity);
          const session = this.#add(
            new Session(id, identity, sealed.handshake, this.#replayLimits, this.#replayBudget, sealed.key, sealed.issuedAt, sealed.server),
          );
          if (known.kind === 'live') {
            session.logLevel = known.state.logLevel;
            for (const { uri, service, upstreamUri } of known.state.subscriptions) session.subscribed.set(uri, { service, upstreamUri });
          }
          this.logger.debug({ session: sealed.key }, 'serving an MCP session opened on another replica');
          return session;
        } finally {
          this.#rebuilding.delete(id);
        }
      })();
      this.#rebuilding.set(id, rebuilding);
    }
    return (await rebuilding) === undefined ? undefined : this.find(id, identity, server);
  }

  /**
   * Ends a session a client DELETEd: with several replicas, its tombstone is written to the
   * shared store first (so no replica rebuilds it) and every replica is told to forget it.
   */
  async end(session: Session): Promise<void> {
    const cluster = this.#cluster;
    if (cluster !== undefined) {
      await cluster.state.end(session.key, session.createdAt + this.#limits.maxAgeMs);
      try {
        await cluster.bus.publish({ all: true }, BUS.ended, { key: session.key });
      } catch (error) {
        // The tombstone holds: a replica that still caches the session forgets it when it goes idle.
        this.logger.warn({ err: error, session: session.key }, 'could not tell the other replicas that a session ended');
      }
    }
    this.delete(session);
  }

  /** Gives `session` its GET stream and tells the stream listeners. */
  attachStream(session: Session, stream: Outbox): void {
    session.stream = stream;
    const cluster = this.#cluster;
    if (cluster !== undefined && !this.#streamSubscriptions.has(session)) {
      // What other replicas pass on for this session's stream (resource updates they took) comes here.
      const stop = cluster.bus.subscribeSession(session.key, (message) => {
        const body = message.body as { method?: unknown; params?: unknown } | null;
        if (message.type !== BUS.notify || typeof body?.method !== 'string') return;
        session.notify(body.method, (typeof body.params === 'object' && body.params !== null ? body.params : undefined) as Record<string, unknown> | undefined);
      });
      this.#streamSubscriptions.set(session, stop);
    }
    for (const listener of this.#streamListeners) {
      try {
        listener(session);
      } catch (error) {
        this.logger.error({ err: error, session: session.id }, 'a session stream listener failed');
      }
    }
  }

  /** Calls `listener` whenever a session opens its GET stream (so the gateway can reach it on its own). */
  onStream(listener: (session: Session) => void): () => void {
    this.#streamListeners.add(listener);
    return () => this.#streamListeners.delete(listener);
  }

  /** Calls `listener` for every session that ends, however it ends. Returns an unsubscribe. */
  onClose(listener: (session: Session) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Ends a session and releases what it holds. */
  delete(session: Session): void {
    this.#forget(session);
  }

  /** Drops a session from this replica's table and releases what it holds here. */
  #forget(session: Session): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    this.#byKey.delete(session.key);
    this.#streamSubscriptions.get(session)?.();
    this.#streamSubscriptions.delete(session);
    const left = (this.#perIdentity.get(session.identity.name) ?? 1) - 1;
    if (left > 0) this.#perIdentity.set(session.identity.name, left);
    else this.#perIdentity.delete(session.identity.name);
    try {
      session.close();
    } finally {
      for (const listener of this.#closeListeners) {
        try {
          listener(session);
        } catch (error) {
          this.logger.error({ err: error, session: session.id }, 'a session close listener failed');
        }
      }
    }
  }

  #reapIdle(): void {
    const cutoff = Date.now() - this.#limits.idleMs;
    for (const session of this.#sessions.values()) {
      // A session with a call in flight is in use, however long ago its client last sent anything.
      if (session.lastSeen < cutoff && session.calls.size === 0) {
        this.logger.debug({ session: session.id }, 'closing idle MCP session');
        this.delete(session);
      }
    }
  }

  /** Ends every session. */
  close(): void {
    clearInterval(this.#reaper);
    this.#stopBus?.();
    const sessions = [...this.#sessions.values()];
    try {
      for (const session of sessions) this.delete(session);
    } finally {
      this.#sessions.clear();
      this.#byKey.clear();
      this.#perIdentity.clear();
      this.#closeListeners.clear();
    }
  }
}
