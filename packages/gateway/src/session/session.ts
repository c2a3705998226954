import type { JsonRpcId } from '@meshgate/service-kit';
import { type ClientCapabilities, type LoggingLevel, ProtocolError, ProtocolErrorCode, type ServerCapabilities } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { Cancellation } from '../federation/cancel.js';
import type { Params, SessionChange, SessionScope } from '../federation/context.js';
import { DEFAULT_REPLAY_LIMITS, type ReplayBudget, type ReplayLimits, SessionReplay } from './replay.js';

/** Which client capability a relayed request needs. */
const NEEDS: Record<string, 'sampling' | 'elicitation' | 'roots'> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * Requests relayed to one session's client and not yet answered, at most: each holds a
 * service's call open, and a client that never answers must not make a service grow the
 * gateway by asking again and again.
 */
export const MAX_PENDING_RELAYS = 64;

/**
 * Where messages for a client go outside the answer to its request: an event stream,
 * either the one answering a POST or the session's GET stream. `request` sends a request
 * whose answer the client POSTs back.
 */
export interface Outbox {
  /** Sends a notification; dropped if the stream is over or its client does not read it. */
  notify(method: string, params: Params): void;
  /** Sends a request; false if it could not be sent (the stream is over, or its client does not read it). */
  request(id: string, method: string, params: Params): boolean;
  /** Ends the stream (the session closed). */
  close(): void;
  /** Whether a client is connected to the stream now (a GET stream whose client went away is kept for it to resume). */
  readonly connected: boolean;
}

/** A request the gateway sent the client on behalf of a service, waiting for the client's answer. */
export interface PendingRelay {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** What the client said of itself at initialize, and what the gateway answered. */
export interface Handshake {
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  offered: ServerCapabilities;
  /** The client's own name and version (`clientInfo`), as far as it sent them: shown to admins in `GET /sessions`. */
  clientInfo?: { name?: string; version?: string };
}

/**
 * One client session of the gateway: who opened it, what was negotiated, what it asked
 * for since (log level, subscriptions), and what is in flight (its calls, the requests
 * relayed to its client). Everything the gateway holds for a session hangs off this one
 * object, so closing it releases everything.
 */
export class Session implements SessionScope {
  logLevel: LoggingLevel | undefined;
  readonly subscribed = new Map<string, { service: string; upstreamUri: string }>();
  /** The calls in flight, by the client's request id, to cancel them. */
  readonly calls = new Map<JsonRpcId, Cancellation>();
  /** Requests relayed to the client (sampling, elicitation, roots), by the id the gateway gave them. */
  readonly relays = new Map<string, PendingRelay>();
  /** The session's GET stream, once the client opened one (while it is away, what comes is kept for it to resume). */
  stream: Outbox | undefined;
  /** The session's resumable event streams (its GET stream and POST streams): ids, and what a client that reconnects is replayed. */
  readonly replay: SessionReplay;
  lastSeen = Date.now();
  /** With several replicas: this replica's id and a dot, in the ids of requests relayed from here, so a client's answer landing elsewhere finds its way back. */
  relayTag = '';
  /** With several replicas: passes a resource update on to the replica holding the session's GET stream, when this one does not. */
  forward: ((method: string, params: Params) => void) | undefined;
  /** With several replicas: writes a change of state to the shared store and tells the other replicas (SessionScope.share). */
  share: ((change: SessionChange) => Promise<void>) | undefined;
  #relayCount = 0;
  #closed = false;
  /** Said once per session in the log: past this, more of the same is noise. */
  readonly #warned = new Set<string>();

  constructor(
    readonly id: string,
    readonly identity: GatewayIdentity,
    readonly handshake: Handshake,
    replayLimits: ReplayLimits = DEFAULT_REPLAY_LIMITS,
    replayBudget?: ReplayBudget,
    /** The session's key in the shared session-state store: a sealed id's random part, else the id itself. */
    readonly key: string = id,
    /** When its id was issued (a session rebuilt from a sealed id keeps the id's time). */
    readonly createdAt: number = Date.now(),
    /** The virtual server whose endpoint opened it; undefined for `/mcp`. The session is valid only there. */
    readonly server?: string,
  ) {
    this.replay = new SessionReplay(replayLimits, replayBudget);
  }

  get offered(): ServerCapabilities {
    return this.handshake.offered;
  }

  get protocolVersion(): string {
    return this.handshake.protocolVersion;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** An id for a request relayed to this client, unique in the session. */
  nextRelayId(): string {
    this.#relayCount += 1;
    return `meshgate-relay-${this.relayTag}${this.#relayCount}`;
  }

  /** Whether the client said at initialize that it takes `method` (sampling, elicitation, roots). */
  takes(method: string): boolean {
    const needed = NEEDS[method];
    return needed === undefined || this.handshake.clientCapabilities[needed] !== undefined;
  }

  /**
   * Relays a service's request to this client on `outbox` and resolves with the client's
   * answer (POSTed back, see Dispatcher.take). A request the client did not declare it takes
   * is refused here, but for `roots/list`, which answers no roots; so is one past
   * MAX_PENDING_RELAYS unanswered (said once to `logger`), and one the outbox cannot send
   * (its client is not reading). `onId` hears the relay's id, for a caller that cancels
   * what is left unanswered.
   */
  ask(outbox: Outbox, method: string, params: Params, onId?: (relayId: string) => void, logger?: Pick<Logger, 'warn'>): Promise<Record<string, unknown>> {
    if (!this.takes(method)) {
      if (method === 'roots/list') return Promise.resolve({ roots: [] });
      return Promise.reject(new ProtocolError(ProtocolErrorCode.InvalidRequest, `The client of this call does not support ${method}`));
    }
    if (this.relays.size >= MAX_PENDING_RELAYS) {
      if (this.firstTime('relays')) {
        logger?.warn(
          { session: this.id, pending: this.relays.size },
          `refusing requests of services to a client that leaves ${MAX_PENDING_RELAYS} of them unanswered`,
        );
      }
      return Promise.reject(
        new ProtocolError(
          ProtocolErrorCode.InternalError,
          `The client has ${MAX_PENDING_RELAYS} requests unanswered; it is asked nothing more until it answers`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const relayId = this.nextRelayId();
      if (!outbox.request(relayId, method, params)) {
        reject(new ProtocolError(ProtocolErrorCode.InternalError, `The client is not reading its event stream; ${method} could not be sent`));
        return;
      }
      this.relays.set(relayId, { resolve, reject });
      onId?.(relayId);
    });
  }

  /** True the first time `what` is asked about in this session: for log lines said once, not per message. */
  firstTime(what: string): boolean {
    if (this.#warned.has(what)) return false;
    this.#warned.add(what);
    return true;
  }

  /** A notification outside any request (list changes, resource updates, log messages): on the GET stream, if one is open. */
  notify(method: string, params: Params): void {
    this.stream?.notify(method, params);
  }

  /**
   * A resource it subscribed to changed. The replica that took the subscription hears of it;
   * if the GET stream is held by another, the update goes there (list changes and log
   * messages need no forwarding: every replica hears of those itself).
   */
  resourceUpdated(uri: string): void {
    if (this.stream === undefined && this.forward !== undefined) this.forward('notifications/resources/updated', { uri });
    else this.notify('notifications/resources/updated', { uri });
  }

  /** Stops the calls in flight, fails the pending relays, ends the GET stream and frees what was kept for replay. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      for (const call of this.calls.values()) call.abort();
    } finally {
      this.calls.clear();
      try {
        for (const pending of this.relays.values()) pending.reject(new Error('the session ended before the client answered'));
      } finally {
        this.relays.clear();
        const stream = this.stream;
        this.stream = undefined;
        try {
          stream?.close();
        } finally {
          this.replay.close();
        }
      }
    }
  }
}
