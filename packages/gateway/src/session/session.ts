import type { JsonRpcId } from '@meshgate/service-kit';
import type { ClientCapabilities, LoggingLevel, ServerCapabilities } from '@modelcontextprotocol/server';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { Params, SessionScope } from '../federation/context.js';

/**
 * Where messages for a client go outside the answer to its request: an event stream,
 * either the one answering a POST or the session's GET stream. `request` sends a request
 * whose answer the client POSTs back.
 */
export interface Outbox {
  notify(method: string, params: Params): void;
  request(id: string, method: string, params: Params): void;
  /** Ends the stream (the session closed). */
  close(): void;
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
  readonly calls = new Map<JsonRpcId, AbortController>();
  /** Requests relayed to the client (sampling, elicitation, roots), by the id the gateway gave them. */
  readonly relays = new Map<string, PendingRelay>();
  /** The session's GET stream, while the client holds one open. */
  stream: Outbox | undefined;
  readonly createdAt = Date.now();
  lastSeen = this.createdAt;
  #relayCount = 0;
  #closed = false;

  constructor(
    readonly id: string,
    readonly identity: GatewayIdentity,
    readonly handshake: Handshake,
  ) {}

  get offered(): ServerCapabilities {
    return this.handshake.offered;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** An id for a request relayed to this client, unique in the session. */
  nextRelayId(): string {
    this.#relayCount += 1;
    return `meshgate-relay-${this.#relayCount}`;
  }

  /** A notification outside any request (list changes, resource updates, log messages): on the GET stream, if one is open. */
  notify(method: string, params: Params): void {
    this.stream?.notify(method, params);
  }

  resourceUpdated(uri: string): void {
    this.notify('notifications/resources/updated', { uri });
  }

  /** Stops the calls in flight, fails the pending relays and ends the GET stream. Idempotent. */
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
        stream?.close();
      }
    }
  }
}
