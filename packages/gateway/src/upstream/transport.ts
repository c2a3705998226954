import type { LookupFunction } from 'node:net';
import type { ServerCapabilities } from '@modelcontextprotocol/client';
import type { Dispatcher } from 'undici';
import type { CancelSignal } from '../federation/cancel.js';
import type { Downstream } from './relay.js';

/**
 * How the gateway speaks to one service, whatever carries the messages (streamable HTTP,
 * or the stdin and stdout of a process the gateway runs: stdio/). One transport is one MCP
 * session: it opens it, carries every request of it, and reports what the service sends
 * on its own. Everything above it (reconnecting, listing, probing, the breaker, the
 * federation) only sees this interface.
 */

/** What the service said about itself when the session opened. */
export interface UpstreamHandshake {
  /** The protocol version both sides speak on this session. */
  protocolVersion: string;
  capabilities: ServerCapabilities;
  serverInfo: { name: string; version: string };
  instructions?: string;
  /** Meshgate instances the service says it is or federates (loop.ts); empty for anything else. */
  instances?: readonly string[];
}

/** Options of one request. */
export interface CallOptions {
  signal?: CancelSignal;
  /** This request's deadline, in place of the limits' `requestMs` (progress still extends it up to `maxRequestMs`). */
  timeoutMs?: number;
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  /** The client the request is made for: the service's requests and log messages during it go there. */
  downstream?: Downstream;
  /** The client's MCP session, if it has one: a per-session stdio service serves it from that session's own process. */
  sessionId?: string;
  /** Headers for this request only, besides the session's (request id, W3C trace context). */
  headers?: Record<string, string>;
}

/** What a transport reports that is not the answer to one of its requests. */
export interface TransportEvents {
  /** A notification not about one request (list_changed, resources/updated, log messages outside calls). */
  notification(method: string, params: Record<string, unknown>): void;
  /**
   * A request from the service not tied to one of ours (for HTTP, it came on the GET
   * stream). Resolves with the result to send back, or rejects with an error carrying a
   * JSON-RPC `code` (a ProtocolError) to send back as the error.
   */
  request(method: string, params: Record<string, unknown> | undefined): Promise<Record<string, unknown>>;
  /**
   * The session is gone (the service restarted, the stream cannot be had back) and no
   * request of ours is there to say so: the connection should reconnect. A request that
   * finds the session gone rejects with `SessionLostError` instead. Reported once at most.
   */
  sessionLost(reason: string): void;
}

/** One session with one service. */
export interface UpstreamTransport {
  /**
   * Opens the session: `initialize`, then `notifications/initialized`, then whatever the
   * transport needs to hear the service on its own (for HTTP, the GET stream). Rejects if
   * the service cannot be reached, refuses, or speaks no protocol version the gateway does.
   */
  start(signal?: AbortSignal): Promise<UpstreamHandshake>;
  /**
   * Sends one request on the session and resolves with its result unchanged. Rejects with
   * a ProtocolError for a JSON-RPC error, `UpstreamTimeoutError`, `SessionLostError`,
   * `InvalidAnswerError`, an AbortError, or the network's own error (errors.ts sorts them).
   */
  request(method: string, params: Record<string, unknown> | undefined, options?: CallOptions): Promise<Record<string, unknown>>;
  /** Sends a notification on the session, without waiting for anything. */
  notify(method: string, params: Record<string, unknown> | undefined): void;
  /**
   * Ends the session: nothing more is sent or reported. Requests in flight fail at once,
   * or, with `drain`, run to their answer or deadline (when the session is dropped for a
   * new one while the service may still be answering).
   */
  close(drain?: boolean): Promise<void>;
}

/** The limits a transport applies to every request. */
export interface TransportLimits {
  /** Deadline of `start`. */
  connectMs: number;
  requestMs: number;
  maxRequestMs: number;
  maxResponseBytes: number;
}

/**
 * How connections to one service are made when its address must be checked at every
 * connect (registered services: the SSRF guard, security/ssrf.ts `guardedLookup`):
 * the host-name lookup the sockets use, and a dispatcher using it for the health probe.
 */
export interface Dial {
  lookup: LookupFunction;
  dispatcher: Dispatcher;
}

/** What a transport needs to reach one service. */
export interface TransportOptions {
  service: string;
  url: string;
  /** The service's own credential, as headers (for HTTP transports). */
  headers: Record<string, string>;
  limits: TransportLimits;
  /** Checked connections (registered services); unchecked, as the system resolves, when absent. */
  dial?: Dial | undefined;
  /** For what is worth a log line but not an error (a notification stream that could not be had). */
  log?: (message: string, details: Record<string, unknown>) => void;
}

/** Makes the transport of a new session; the connection calls it once per (re)connect. */
export type TransportFactory = (options: TransportOptions, events: TransportEvents) => UpstreamTransport;
