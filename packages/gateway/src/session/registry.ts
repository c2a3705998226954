import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import { DEFAULT_REPLAY_LIMITS, DEFAULT_REPLAY_TOTAL_BYTES, ReplayBudget } from './replay.js';
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
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 30 * 60_000,
  maxSessions: 10_000,
  maxPerIdentity: 1_000,
  replayEvents: DEFAULT_REPLAY_LIMITS.events,
  replayBytes: DEFAULT_REPLAY_LIMITS.bytes,
  replayTotalBytes: DEFAULT_REPLAY_TOTAL_BYTES,
};

/**
 * The open sessions, by id: the one registry every path asks. A session is bound to the
 * identity that opened it; another identity asking for its id is told it does not exist,
 * so neither learns of the other. Idle sessions are closed by a reaper.
 * (Several replicas will plug a shared store in here.)
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #perIdentity = new Map<string, number>();
  readonly #closeListeners = new Set<(session: Session) => void>();
  readonly #streamListeners = new Set<(session: Session) => void>();
  readonly #limits: SessionLimits;
  readonly #replayBudget: ReplayBudget;
  readonly #reaper: NodeJS.Timeout;

  constructor(
    limits: Partial<SessionLimits>,
    private readonly logger: Logger,
  ) {
    this.#limits = { ...DEFAULT_SESSION_LIMITS, ...limits };
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
    const session = new Session(
      randomUUID(),
      identity,
      handshake,
      { events: this.#limits.replayEvents, bytes: this.#limits.replayBytes },
      this.#replayBudget,
      server,
    );
    this.#sessions.set(session.id, session);
    this.#perIdentity.set(identity.name, mine + 1);
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

  /** Gives `session` its GET stream and tells the stream listeners. */
  attachStream(session: Session, stream: Outbox): void {
    session.stream = stream;
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
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
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
    const sessions = [...this.#sessions.values()];
    try {
      for (const session of sessions) this.delete(session);
    } finally {
      this.#sessions.clear();
      this.#perIdentity.clear();
      this.#closeListeners.clear();
    }
  }
}
