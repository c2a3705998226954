import type { ServerCapabilities } from '@modelcontextprotocol/client';
import { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import type { Listings } from '../model/catalog.js';
import { type CredentialSpec, redactUrl } from '../model/service.js';
import { CircuitOpenError, type CircuitView, ServiceBreaker } from './breaker.js';
import type { EnvAccess } from './credential-policy.js';
import { backendDetail, classifyUpstreamError, connectFailure, describeCause, isServiceFault, requestFailure, unavailable } from './errors.js';
import { DEFAULT_LIMITS, PROBE_FAILURES_FOR_DOWN, type UpstreamLimits } from './limits.js';
import { FederationLoopError } from './loop.js';
import { checkHealthUrl, Prober } from './probe.js';
import { retryForever } from './reconnect.js';
import { answerServiceRequest, Callers } from './relay.js';
import { listSession, openSession, type SessionSpec } from './session.js';
import type { CallOptions, Dial, TransportFactory, UpstreamTransport } from './transport.js';

/** The options of one request (transport.ts's CallOptions, under the name federation uses). */
export type RequestOptions = CallOptions;
export type { UpstreamLimits } from './limits.js';

/**
 * `connecting` before the first connect; `up` when serving; `degraded` while connected but
 * failing (a missed health probe, or an open circuit); `down` when there is no connection.
 */
export type UpstreamStatus = 'connecting' | 'up' | 'degraded' | 'down';

export interface UpstreamOptions {
  service: string;
  url: string;
  credential: CredentialSpec;
  /** The token a `gateway` credential stands for; undefined when this service may not be sent it. */
  gatewayToken: string | undefined;
  /** How the credential's `*Env` references are read (credential-policy.ts). */
  env?: EnvAccess;
  /** This gateway's instance id, to refuse a service that leads back to it (loop.ts). */
  instanceId?: string;
  logger: Logger;
  limits?: Partial<UpstreamLimits>;
  /** Called with the live listings after every (re)connect and every refresh. */
  onListings: (listings: Listings) => void;
  /** Called on every status change. */
  onStatus: (status: UpstreamStatus) => void;
  /** A notification from the service that is not about one call (resource updates, log messages). */
  onNotification?: (method: string, params: Record<string, unknown>) => void;
  /**
   * Answers a request the service makes outside any call when no single call is in flight
   * to take it (for `roots/list`: the roots of the one client session using the service).
   * Without it, `roots/list` answers no roots and the others are refused.
   */
  onRequest?: (method: string, params: Record<string, unknown> | undefined) => Promise<Record<string, unknown>>;
  /** Makes the transport of each session; streamable HTTP unless given (the seam for other kinds of upstream). */
  transportFactory?: TransportFactory;
  /** Checked connections: the SSRF guard at every connect (registered services). */
  dial?: Dial;
}

/** The shortest time between two refreshes of one service's listings. */
const REFRESH_MIN_INTERVAL_MS = 1_000;

/** Notifications from a service that the gateway passes on to its own clients. */
const FORWARDED_NOTIFICATIONS = new Set(['notifications/resources/updated', 'notifications/message', 'notifications/tasks/status']);
const LIST_CHANGED = new Set(['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed']);

/**
 * The gateway's connection to one service: one session at a time, each a transport
 * (transport.ts; streamable HTTP unless the options say otherwise) with the service's own
 * credential. It reconnects in the background with capped, jittered exponential backoff,
 * lists everything after every connect and on `list_changed`, probes the service while
 * up, keeps a circuit breaker, and fails calls fast (naming the service) while the
 * service is away.
 */
export class UpstreamConnection {
  readonly service: string;
  /** The service's URL as logs and errors show it: secret-looking query values redacted. */
  readonly url: string;
  status: UpstreamStatus = 'connecting';
  statusChangedAt = new Date().toISOString();
  lastError: string | undefined;
  /** When the service last answered (ms since the epoch); formatted only when shown. */
  #lastSeen: number | undefined;
  /** The live listings, once listed at least once by this connection. */
  listings: Listings | undefined;
  /** Sessions this connection has opened: every one after the first is a reconnect (for the metrics). */
  sessionsOpened = 0;
  /** What the service said it can do, while connected. */
  capabilities: ServerCapabilities | undefined;
  /** The service's instructions for its clients, if its handshake had any. */
  instructions: string | undefined;
  /** Meshgate instances the service is or federates, as its last handshake said (loop.ts). */
  instances: readonly string[] = [];

  readonly #options: UpstreamOptions;
  readonly #limits: UpstreamLimits;
  readonly #sessionSpec: SessionSpec;
  readonly #stop = new AbortController();
  /** The live session's transport: every request goes through it. */
  #transport: UpstreamTransport | undefined;
  /** The reconnect loop, while it runs. */
  #connecting: Promise<void> | undefined;
  /** The connection attempt under way: the loop, a registration and a session-lost retry share it. */
  #attempting: Promise<void> | undefined;
  readonly #prober = new Prober();
  #probeFailures = 0;
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #refreshAgain = false;
  #lastRefreshAt = 0;
  readonly #breaker: ServiceBreaker;
  /** Clients of the calls in flight that can take relayed requests. */
  readonly #callers = new Callers();
  /** Counts the progress tokens this connection gives out upstream. */
  #progressTokens = 0;
  /** Calls in flight, with a client to reach or not: a message outside any call is that call's only while there is one. */
  #inFlight = 0;

  constructor(options: UpstreamOptions) {
    this.#options = options;
    this.service = options.service;
    this.url = redactUrl(options.url);
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#sessionSpec = { ...options, limits: this.#limits };
    this.#breaker = new ServiceBreaker({
      threshold: this.#limits.breakerThreshold,
      cooldownMs: this.#limits.breakerCooldownMs,
      isFault: isServiceFault,
      onChange: (state) => {
        this.#options.logger.warn({ service: this.service, circuit: state }, `circuit of service "${this.service}" is ${state}`);
        this.#settle();
      },
    });
  }

  /** The circuit breaker's state, for `/services`. */
  get circuit(): CircuitView {
    return this.#breaker.state;
  }

  get closed(): boolean {
    return this.#stop.signal.aborted;
  }

  /**
   * Keeps the service connected from now on: starts connecting in the background unless
   * `connectOnce` already did. Resolves at once.
   */
  start(): void {
    if (this.#transport === undefined) void this.#reconnect();
  }

  /**
   * One connection attempt, for registration: resolves when connected and listed, and
   * otherwise throws `upstream_unreachable` with the reason. Does not retry.
   */
  async connectOnce(): Promise<void> {
    try {
      await this.#attempt();
    } catch (error) {
      const reason = describeCause(error);
      this.#setStatus('down', reason);
      const detail = backendDetail(error);
      if (detail !== undefined) this.#options.logger.warn({ service: this.service, reason, detail }, `could not connect to service "${this.service}"`);
      if (error instanceof FederationLoopError)
        throw new GatewayError('federation_loop', `Refused service "${this.service}" at ${this.url}: ${reason}`, { service: this.service });
      throw connectFailure(this.service, this.url, reason);
    }
  }

  /** Sends one request to the service and returns its result unchanged. */
  async request(method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}): Promise<Record<string, unknown>> {
    let transport = this.#transport;
    if (transport === undefined && this.status !== 'down' && this.#attempting !== undefined) {
      // The session was lost and a new one is being opened at once: wait for it rather than fail.
      await this.#attempting.catch(() => undefined);
      transport = this.#transport;
    }
    if (transport === undefined) throw unavailable(this.service, this.status, this.lastError);
    try {
      return await this.#breaker.execute(() => this.#send(transport, method, params, options));
    } catch (error) {
      if (error instanceof CircuitOpenError) throw unavailable(this.service, 'failing', error.message);
      const failure = classifyUpstreamError(error);
      switch (failure.kind) {
        case 'protocol':
          this.#seen();
          throw failure.error;
        case 'aborted':
          throw error;
        case 'session-lost': {
          // The service restarted and forgot our session: reconnect once, then retry.
          this.#options.logger.info({ service: this.service }, 'service lost our session; reconnecting');
          await this.#drop(transport, true);
          try {
            await this.connectOnce();
          } catch (error) {
            void this.#reconnect(); // not ready yet: keep trying in the background, like any lost connection
            throw error;
          }
          const fresh = this.#transport;
          if (fresh === undefined) throw unavailable(this.service, this.status, this.lastError);
          return this.#send(fresh, method, params, options);
        }
        case 'transport':
          if (this.#transport === transport) this.#lost(failure.reason);
          throw requestFailure(this.service, method, failure);
        case 'bad-response':
          this.#options.logger.warn({ service: this.service, method, reason: failure.reason, detail: backendDetail(error) }, 'service gave an invalid answer');
          throw requestFailure(this.service, method, failure);
        case 'timeout':
          throw requestFailure(this.service, method, failure);
      }
    }
  }

  async #send(
    transport: UpstreamTransport,
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions,
  ): Promise<Record<string, unknown>> {
    if (this.#transport !== transport) throw unavailable(this.service, this.status, this.lastError);
    const { downstream } = options;
    // While it runs, this call's client may be asked what the service asks outside any call.
    const caller = downstream === undefined ? undefined : this.#callers.enter(downstream);
    this.#inFlight += 1;
    try {
      const result = await transport.request(method, this.#ownProgressToken(params, options), options);
      this.#seen();
      return result;
    } finally {
      this.#inFlight -= 1;
      if (caller !== undefined) this.#callers.leave(caller);
    }
  }

  /**
   * The params with a progress token of this connection's own in place of the client's.
   * All clients share one session with the service, so two clients' calls may both carry
   * token `1`; each call gets a token no other call on the connection has, and its
   * progress reaches the caller through `onprogress`, under the caller's own token. A call
   * that cannot take progress (no `onprogress`) sends none upstream.
   */
  #ownProgressToken(params: Record<string, unknown> | undefined, options: RequestOptions): Record<string, unknown> | undefined {
    const meta = params?.['_meta'];
    if (typeof meta !== 'object' || meta === null || !('progressToken' in meta)) return params;
    const { progressToken: _client, ...rest } = meta as Record<string, unknown>;
    if (options.onprogress === undefined) return { ...params, _meta: rest };
    this.#progressTokens += 1;
    return { ...params, _meta: { ...rest, progressToken: `meshgate-progress-${this.#progressTokens}` } };
  }

  /**
   * Re-lists everything after a `list_changed`, debounced per service: notifications that
   * arrive while a refresh is waiting or running fold into one more refresh after it, and
   * refreshes start at most once per REFRESH_MIN_INTERVAL_MS, so a service (or a loop of
   * gateways) announcing changes in a burst costs a bounded number of listings.
   */
  scheduleRefresh(delayMs = 100): void {
    if (this.closed) return;
    if (this.#refreshTimer !== undefined || this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    const wait = Math.max(delayMs, this.#lastRefreshAt + REFRESH_MIN_INTERVAL_MS - Date.now());
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      const transport = this.#transport;
      const capabilities = this.capabilities;
      if (transport === undefined || capabilities === undefined || this.closed) return;
      this.#refreshing = true;
      this.#refreshAgain = false;
      this.#lastRefreshAt = Date.now();
      listSession(transport, { capabilities }, this.#sessionSpec)
        .then(
          (listings) => {
            if (!this.closed && this.#transport === transport) this.#publish(listings);
          },
          (error: unknown) => this.#options.logger.warn({ service: this.service, reason: describeCause(error) }, 'catalog refresh failed'),
        )
        .finally(() => {
          this.#refreshing = false;
          if (this.#refreshAgain) this.scheduleRefresh();
        });
    }, wait);
  }

  #attempt(): Promise<void> {
    this.#attempting ??= this.#connect().finally(() => {
      this.#attempting = undefined;
    });
    return this.#attempting;
  }

  async #connect(): Promise<void> {
    let opened: UpstreamTransport | undefined;
    /** A loss reported while this session was still being opened (listed), handled once it is current. */
    let lostEarly: string | undefined;
    const sessionLost = (reason: string) => {
      if (opened === undefined) {
        lostEarly = reason;
        return;
      }
      if (this.#transport !== opened) return;
      // The service restarted and forgot our session: open a new one at once (calls that
      // arrive meanwhile wait for it); only if that fails is the service down.
      this.#options.logger.info({ service: this.service, reason }, 'service lost our session; reconnecting');
      void this.#drop(opened, true);
      this.#attempt().catch((error: unknown) => this.#lost(describeCause(error)));
    };
    const { transport, handshake, listings, healthUrl } = await openSession(this.#sessionSpec, {
      notification: (method, params) => this.#onServiceNotification(method, params),
      request: (method, params) => answerServiceRequest(this.service, method, params, this.#callers.sole(), this.#options.onRequest),
      sessionLost,
    });
    opened = transport;
    if (this.closed) {
      await transport.close();
      throw new AbortError('connection closed');
    }
    const previous = this.#transport;
    this.#transport = transport;
    this.sessionsOpened += 1;
    this.capabilities = handshake.capabilities;
    this.instructions = handshake.instructions;
    this.instances = handshake.instances ?? [];
    if (previous !== undefined && previous !== transport) void previous.close(true);
    this.#probeFailures = 0;
    this.lastError = undefined;
    this.#settle();
    this.#seen();
    this.#publish(listings);
    this.#startProbe(transport, healthUrl);
    // After the attempt that opened it has settled, so the new attempt is not joined to it.
    if (lostEarly !== undefined) setImmediate(() => sessionLost(lostEarly as string));
  }

  /** What the service sends outside its answers: list changes re-list, the rest is the gateway's to pass on. */
  #onServiceNotification(method: string, params: Record<string, unknown>): void {
    if (LIST_CHANGED.has(method)) this.scheduleRefresh();
    else if (method === 'notifications/message' && this.#inFlight === 1) {
      // A service that logs on its own stream during a call (fastmcp does) means that call:
      // its client hears it, if it can take messages, and no other session does.
      const caller = this.#callers.sole();
      if (caller !== undefined) void caller.notify(method, params).catch(() => undefined);
    } else if (FORWARDED_NOTIFICATIONS.has(method)) this.#options.onNotification?.(method, params);
  }

  /** Sends a notification to the service on the live session; dropped when there is none. */
  notify(method: string, params: Record<string, unknown> | undefined): void {
    this.#transport?.notify(method, params);
  }

  #publish(listings: Listings): void {
    this.listings = listings;
    this.#options.onListings(listings);
  }

  /** Marks the connection lost and starts reconnecting. */
  #lost(reason: string): void {
    const transport = this.#transport;
    if (transport !== undefined) void this.#drop(transport, true);
    this.#options.logger.warn({ service: this.service, reason }, `service "${this.service}" is down: ${reason}`);
    this.#setStatus('down', reason);
    void this.#reconnect();
  }

  /**
   * Forgets a session. With `drain`, its calls in flight still run to their answer or
   * deadline: the service may only be slow, or they fail by themselves on a lost session.
   */
  async #drop(transport: UpstreamTransport, drain: boolean): Promise<void> {
    if (this.#transport === transport) {
      this.#transport = undefined;
      this.capabilities = undefined;
      this.instructions = undefined;
    }
    this.#prober.stop();
    await transport.close(drain).catch(() => undefined);
  }

  /** Reconnects with backoff until connected or closed; concurrent callers share one loop. */
  #reconnect(): Promise<void> {
    if (this.#connecting !== undefined || this.closed) return this.#connecting ?? Promise.resolve();
    const { retryMinMs: minMs, retryMaxMs: maxMs } = this.#limits;
    this.#connecting = retryForever(() => this.#attempt(), {
      minMs,
      maxMs,
      signal: this.#stop.signal,
      onFailure: (reason) => {
        if (this.status !== 'down') {
          this.#options.logger.warn({ service: this.service, url: this.url, reason }, `cannot reach service "${this.service}"; retrying in the background`);
        }
        this.#setStatus('down', reason);
      },
    }).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #startProbe(transport: UpstreamTransport, healthUrl: string | undefined): void {
    const timeoutMs = this.#limits.connectMs;
    const ping = () => transport.request('ping', undefined, { timeoutMs }).then(() => undefined);
    const check = healthUrl === undefined ? ping : () => checkHealthUrl(healthUrl, timeoutMs, this.#options.dial?.dispatcher);
    this.#prober.start(this.#limits.probeIntervalMs, check, (error) => {
      if (this.#transport !== transport) return;
      if (error === undefined) {
        this.#seen();
        if (this.#probeFailures > 0) {
          this.#probeFailures = 0;
          this.#settle();
        }
        return;
      }
      const reason = `health probe failed: ${describeCause(error)}`;
      this.#probeFailures += 1;
      this.lastError = reason;
      // One missed probe is degraded; several in a row, or a dead connection, is down.
      if (this.#probeFailures >= PROBE_FAILURES_FOR_DOWN || classifyUpstreamError(error).kind === 'transport') this.#lost(reason);
      else this.#settle();
    });
  }

  /** When the service last answered, as an ISO time. */
  get lastSeenAt(): string | undefined {
    return this.#lastSeen === undefined ? undefined : new Date(this.#lastSeen).toISOString();
  }

  #seen(): void {
    this.#lastSeen = Date.now(); // on every call: no date formatting here
  }

  /** Works out the status of a live connection from probes and the circuit. */
  #settle(): void {
    if (this.#transport === undefined) return;
    const healthy = this.#probeFailures === 0 && this.#breaker.state === 'closed';
    this.#setStatus(healthy ? 'up' : 'degraded', undefined);
  }

  #setStatus(status: UpstreamStatus, reason: string | undefined): void {
    if (reason !== undefined) this.lastError = reason;
    if (this.status === status) return;
    this.status = status;
    this.statusChangedAt = new Date().toISOString();
    if (status === 'up') this.#options.logger.info({ service: this.service, url: this.url }, `service "${this.service}" is up`);
    if (status === 'degraded') this.#options.logger.warn({ service: this.service, reason: this.lastError }, `service "${this.service}" is degraded`);
    this.#options.onStatus(status);
  }

  /** Stops reconnecting and probing and ends the session; calls still in flight fail as their sockets close. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#prober.stop();
    if (this.#refreshTimer !== undefined) clearTimeout(this.#refreshTimer);
    const transport = this.#transport;
    this.#transport = undefined;
    if (transport !== undefined) await transport.close().catch(() => undefined);
  }
}
