import { ProtocolError } from '@modelcontextprotocol/client';
import { InvalidAnswerError, SessionLostError, UpstreamHttpError, UpstreamTimeoutError } from './errors.js';
import { type Exchange, type ExchangeEvents, type HttpLink, ServiceLink } from './exchange.js';
import { legacyStreamReader } from './legacy-sse-stream.js';
import type { Downstream } from './relay.js';
import { UPSTREAM_CLIENT_CAPABILITIES } from './relay.js';
import { CLIENT_INFO, handshakeOf, REQUESTED_PROTOCOL_VERSION } from './streamable-http.js';
import { answerOf, type Message } from './streamable-http-call.js';
import type { CallOptions, TransportEvents, TransportOptions, UpstreamHandshake, UpstreamTransport } from './transport.js';

/**
 * The 2024-11-05 HTTP+SSE transport, for services that speak nothing newer: one GET
 * opens an event stream whose first event, `endpoint`, names where to POST messages;
 * every answer, notification and request of the service then comes on that one stream,
 * and each POST is only acknowledged (202). The session lives as long as the stream:
 * when it drops, the session is gone (`sessionLost`), and the connection opens a new one.
 *
 * Hostile services are held to what streamable HTTP is: the message endpoint must be on
 * the SSE URL's own origin (so it passed the same SSRF check at registration), each event
 * is capped at `maxResponseBytes` (the stream itself is long-lived), redirects are never
 * followed, and every request has the same deadline, progress extension and cancellation.
 */

/** An `endpoint` event longer than this is not a URL the gateway will use. */
const MAX_ENDPOINT_CHARS = 2_048;
/** How long a service may keep a POST open after acknowledging it: the answer comes on the stream. */
const POST_GRACE_MS = 1_000;
const NOOP = () => undefined;
const NO_OPTIONS: CallOptions = {};

/** Makes the HTTP link to one URL; tests may give their own. */
export type LinkFactory = (url: URL) => HttpLink;

export interface LegacySseOptions extends TransportOptions {
  link?: LinkFactory;
}

/** A request of ours waiting for its answer on the stream. */
interface Pending {
  method: string;
  progressToken: unknown;
  downstream: Downstream | undefined;
  onprogress: CallOptions['onprogress'];
  /** Restarts the deadline (progress). */
  arm(): void;
  settle(error: Error | undefined, result?: Record<string, unknown>): void;
}

/** The message endpoint the `endpoint` event names, or why it is refused. */
export function resolveEndpoint(service: string, sseUrl: URL, data: string): { ok: true; url: URL } | { ok: false; reason: string } {
  const raw = data.trim();
  if (raw === '' || raw.length > MAX_ENDPOINT_CHARS) return { ok: false, reason: `service "${service}" sent an endpoint event that is not a usable URL` };
  let url: URL;
  try {
    url = new URL(raw, sseUrl);
  } catch {
    return { ok: false, reason: `service "${service}" sent an endpoint event that is not a usable URL` };
  }
  // The endpoint must be where the SSE URL is: another origin was never checked against
  // the SSRF rules, and a service must not steer the gateway's POSTs (with its credential) elsewhere.
  if (url.origin !== sseUrl.origin) {
    return { ok: false, reason: `service "${service}" named a message endpoint on another origin than its SSE URL (${sseUrl.origin}); refused` };
  }
  url.hash = '';
  return { ok: true, url };
}

export class LegacySseTransport implements UpstreamTransport {
  readonly #options: TransportOptions;
  readonly #events: TransportEvents;
  readonly #makeLink: LinkFactory;
  readonly #sseUrl: URL;
  readonly #streamLink: HttpLink;
  #postLink: HttpLink | undefined;
  #stream: Exchange | undefined;
  readonly #pending = new Map<string, Pending>();
  #nextId = 0;
  #endpoint: { resolve(url: URL): void; reject(error: Error): void } | undefined;
  #headers: Record<string, string>;
  #closed = false;
  #lost = false;
  /** Resolves when the last pending request settles, for `close(true)`. */
  #drained: (() => void) | undefined;

  constructor(options: LegacySseOptions, events: TransportEvents) {
    this.#options = options;
    this.#events = events;
    // Registered services dial only addresses the SSRF guard checked (options.dial), the message endpoint included.
    this.#makeLink = options.link ?? ((url) => new ServiceLink(url, options.dial?.lookup));
    this.#sseUrl = new URL(options.url);
    this.#streamLink = this.#makeLink(this.#sseUrl);
    this.#headers = { ...options.headers, 'content-type': 'application/json' };
  }

  async start(signal?: AbortSignal): Promise<UpstreamHandshake> {
    const { service, limits } = this.#options;
    const endpoint = await this.#openStream(signal);
    this.#postLink = this.#makeLink(endpoint);
    const params = { protocolVersion: REQUESTED_PROTOCOL_VERSION, capabilities: UPSTREAM_CLIENT_CAPABILITIES, clientInfo: CLIENT_INFO };
    const result = await this.request('initialize', params, { timeoutMs: limits.connectMs, ...(signal ? { signal } : {}) });
    const handshake = handshakeOf(service, result);
    this.#headers = { ...this.#headers, 'mcp-protocol-version': handshake.protocolVersion };
    await this.#post({ jsonrpc: '2.0', method: 'notifications/initialized' }, true);
    return handshake;
  }

  request(method: string, params: Record<string, unknown> | undefined, options: CallOptions = NO_OPTIONS): Promise<Record<string, unknown>> {
    if (this.#closed || this.#lost || this.#postLink === undefined) {
      return Promise.reject(new SessionLostError(`the event stream of service "${this.#options.service}" is closed`));
    }
    this.#nextId += 1;
    const id = `meshgate-${this.#nextId}`;
    const { signal, downstream, onprogress } = options;
    const deadlineMs = options.timeoutMs ?? this.#options.limits.requestMs;
    const { maxRequestMs } = this.#options.limits;
    const started = Date.now();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cancel = (reason: string) => this.#post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
      const onAbort = () => {
        cancel('the client cancelled the request');
        const error = new Error('the client cancelled the request');
        error.name = 'AbortError';
        pending.settle(error);
      };
      const pending: Pending = {
        method,
        progressToken: (params?.['_meta'] as { progressToken?: unknown } | undefined)?.progressToken,
        downstream,
        onprogress,
        arm: () => {
          clearTimeout(timer);
          const left = Math.min(deadlineMs, maxRequestMs - (Date.now() - started));
          timer = setTimeout(
            () => {
              cancel("the gateway's deadline passed");
              pending.settle(new UpstreamTimeoutError(`no answer to ${method} within the deadline`));
            },
            Math.max(0, left),
          );
        },
        settle: (error, result) => {
          if (this.#pending.get(id) !== pending) return;
          this.#pending.delete(id);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (error === undefined) resolve(result ?? {});
          else reject(error);
          if (this.#pending.size === 0) this.#drained?.();
        },
      };
      this.#pending.set(id, pending);
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.arm();
      this.#post({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }, false, (error) => pending.settle(error));
    });
  }

  notify(method: string, params: Record<string, unknown> | undefined): void {
    if (this.#closed || this.#postLink === undefined) return;
    this.#post({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  async close(drain = false): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Answers come on the stream: draining means keeping it until the last request settles (each has a deadline).
    if (drain && this.#pending.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    try {
      this.#failPending(Object.assign(new Error('the gateway closed the session'), { code: 'UND_ERR_DESTROYED' }));
      this.#endpoint?.reject(new Error('the gateway closed the session'));
    } finally {
      this.#stream?.abort();
      this.#streamLink.close();
      this.#postLink?.close(drain);
    }
  }

  /** Opens the GET stream and resolves with the message endpoint its first event names. */
  #openStream(signal: AbortSignal | undefined): Promise<URL> {
    const { connectMs } = this.#options.limits;
    return new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => fail(new UpstreamTimeoutError('no endpoint event on the event stream within the deadline')), connectMs);
      const onAbort = () => fail(Object.assign(new Error('connecting was aborted'), { name: 'AbortError' }));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#endpoint = undefined;
      };
      const fail = (error: Error) => {
        done();
        this.#stream?.abort();
        reject(error);
      };
      this.#endpoint = {
        resolve: (url) => {
          done();
          resolve(url);
        },
        reject: fail,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const { 'content-type': _, ...headers } = this.#headers;
      this.#stream = this.#streamLink.send('GET', { ...headers, accept: 'text/event-stream' }, undefined, this.#reader());
    });
  }

  /** Reads the session's stream: the endpoint first, then every message of the service (legacy-sse-stream.ts). */
  #reader(): ExchangeEvents {
    const { service, limits } = this.#options;
    return legacyStreamReader(service, limits.maxResponseBytes, {
      endpoint: (data) => {
        const endpoint = this.#endpoint;
        if (endpoint === undefined) return undefined; // only the first one counts
        const resolved = resolveEndpoint(service, this.#sseUrl, data);
        if (!resolved.ok) return resolved.reason;
        endpoint.resolve(resolved.url);
        return undefined;
      },
      message: (message) => this.#onMessage(message),
      ended: (reason, error) => {
        this.#stream?.abort();
        // Before the endpoint, it is `start` that fails; after it, the session is gone.
        if (this.#endpoint !== undefined) this.#endpoint.reject(error ?? new InvalidAnswerError(reason));
        else this.#lose(reason);
      },
    });
  }

  /** One message from the service: an answer to one of ours, a notification, or a request. */
  #onMessage(message: Message): void {
    const { method, id } = message;
    if (method === undefined) {
      const pending = typeof id === 'string' ? this.#pending.get(id) : undefined;
      if (pending === undefined) return; // an answer to nothing we wait for (cancelled, timed out)
      if (message.error !== undefined) pending.settle(new ProtocolError(message.error.code, message.error.message, message.error.data));
      else if (typeof message.result === 'object' && message.result !== null) pending.settle(undefined, message.result as Record<string, unknown>);
      else pending.settle(new InvalidAnswerError('the answer has neither a result object nor an error'));
      return;
    }
    if (this.#closed) return;
    const params = message.params ?? {};
    if (id !== undefined && id !== null) {
      // One stream for everything: the connection finds the client (that of the one call in flight).
      void answerOf(() => this.#events.request(method, message.params)).then((answer) => {
        if (!this.#closed) this.#post({ jsonrpc: '2.0', id, ...answer });
      });
      return;
    }
    if (method === 'notifications/progress') {
      for (const pending of this.#pending.values()) {
        if (pending.progressToken === undefined || pending.progressToken !== params['progressToken']) continue;
        pending.arm();
        pending.onprogress?.(params as { progress: number; total?: number; message?: string });
        return;
      }
      return;
    }
    if (method === 'notifications/message') {
      // Nothing ties a log message to a call here; with one call in flight it is that call's.
      const callers = [...this.#pending.values()].filter((pending) => pending.downstream !== undefined);
      if (callers.length === 1) {
        void callers[0]?.downstream?.notify(method, params).catch(NOOP);
        return;
      }
    }
    this.#events.notification(method, params);
  }

  /**
   * POSTs one message to the endpoint. The service acknowledges it (202) and answers on the
   * stream; `onRefused` hears a refusal. With `wait`, resolves once it is acknowledged.
   */
  #post(message: Record<string, unknown>, wait = false, onRefused: (error: Error) => void = NOOP): Promise<void> {
    const link = this.#postLink;
    if (link === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) return resolve();
        onRefused(error);
        if (wait) reject(error);
        else resolve();
      };
      const timer = wait
        ? setTimeout(
            () => settle(new UpstreamTimeoutError(`no acknowledgement of ${String(message['method'])} within the deadline`)),
            this.#options.limits.connectMs,
          )
        : undefined;
      const exchange = link.send('POST', this.#headers, JSON.stringify(message), {
        head: (status, statusText) => {
          if (status >= 200 && status < 300) {
            exchange.closeWithin(POST_GRACE_MS);
            return settle();
          }
          if (status === 404) settle(new SessionLostError('the service no longer knows the session (HTTP 404)'));
          else if (status >= 300 && status < 400) settle(new InvalidAnswerError(`unexpected redirect (HTTP ${status}); redirects are not followed`));
          else settle(new UpstreamHttpError(status, statusText));
        },
        data: NOOP, // the answer is on the stream; the body of an acknowledgement is not read
        end: () => settle(),
        error: (error) => settle(error),
      });
    });
  }

  /** The stream is gone, and with it the session: every request waiting fails, and the connection is told once. */
  #lose(reason: string): void {
    if (this.#lost || this.#closed) return;
    this.#lost = true;
    this.#failPending(new SessionLostError(reason));
    this.#events.sessionLost(reason);
  }

  #failPending(error: Error): void {
    for (const pending of [...this.#pending.values()]) pending.settle(error);
  }
}

/** The factory of HTTP+SSE transports, for services configured with `transport: "sse"`. */
export function createLegacySseTransport(options: TransportOptions, events: TransportEvents): UpstreamTransport {
  return new LegacySseTransport(options, events);
}
