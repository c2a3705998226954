import { LATEST_PROTOCOL_VERSION, type ServerCapabilities, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/client';
import { InvalidAnswerError, UpstreamTimeoutError } from './errors.js';
import { type Exchange, type ExchangeEvents, type HttpLink, ServiceLink } from './exchange.js';
import { instancesOf } from './loop.js';
import { withRefusals } from './lost-session.js';
import { UPSTREAM_CLIENT_CAPABILITIES } from './relay.js';
import { answerOf, type Message, refusalError, StreamableHttpCaller } from './streamable-http-call.js';
import { NotificationStream } from './streamable-http-stream.js';
import type { CallOptions, TransportEvents, TransportOptions, UpstreamHandshake, UpstreamTransport } from './transport.js';

/** Who the gateway says it is to its services. */
export const CLIENT_INFO = { name: 'meshgate', version: '0.1.0' };

/**
 * The version the gateway asks for: the newest of the session-based (2025) revisions the
 * SDK knows. Later revisions drop `initialize` and the session, which this transport is
 * built on; a service that only speaks an older revision says so in its answer.
 */
export const REQUESTED_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS.find((version) => version.startsWith('2025-')) ?? LATEST_PROTOCOL_VERSION;

const NOOP = () => undefined;
const IGNORED: ExchangeEvents = { head: NOOP, data: NOOP, end: NOOP, error: NOOP };
const NO_OPTIONS: CallOptions = {};

export interface StreamableHttpOptions extends TransportOptions {
  /** Where requests go; by default a ServiceLink to `url` (tests give a scripted one). */
  link?: HttpLink;
}

/**
 * The streamable HTTP transport: one session with one service over one ServiceLink
 * (undici), for `initialize`, every request after it (streamable-http-call.ts) and the
 * GET stream (streamable-http-stream.ts). The session's headers are built once, when it
 * opens, so a request only adds its body.
 */
export class StreamableHttpTransport implements UpstreamTransport {
  readonly #options: StreamableHttpOptions;
  readonly #events: TransportEvents;
  readonly #link: HttpLink;
  readonly #caller: StreamableHttpCaller;
  /** Before `initialize`'s answer: the credential and content negotiation only. */
  #sessionHeaders: Record<string, string>;
  #sessionId: string | undefined;
  #stream: NotificationStream | undefined;
  #closed = false;
  #lost = false;

  constructor(options: StreamableHttpOptions, events: TransportEvents) {
    this.#options = options;
    this.#events = events;
    this.#link = options.link ?? new ServiceLink(new URL(options.url), options.dial?.lookup);
    this.#sessionHeaders = { ...options.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    // Acknowledged messages say nothing back but for a lost session.
    const ack = (): ExchangeEvents =>
      withRefusals(this.#sessionId !== undefined, IGNORED, (status, _statusText, lost) => {
        if (lost) this.#lose(`the service no longer knows the session (HTTP ${status})`);
      });
    this.#caller = new StreamableHttpCaller(options.service, this.#link, options.limits, (method, params) => events.notification(method, params), ack);
  }

  async start(signal?: AbortSignal): Promise<UpstreamHandshake> {
    const { service, limits } = this.#options;
    const params = { protocolVersion: REQUESTED_PROTOCOL_VERSION, capabilities: UPSTREAM_CLIENT_CAPABILITIES, clientInfo: CLIENT_INFO };
    let sessionId: string | undefined;
    const result = await this.#caller.call(
      this.#sessionHeaders,
      'initialize',
      params,
      { timeoutMs: limits.connectMs, ...(signal ? { signal } : {}) },
      (headers) => {
        const value = headers['mcp-session-id'];
        if (typeof value === 'string' && value !== '') sessionId = value;
      },
    );
    const handshake = handshakeOf(service, result);
    this.#sessionId = sessionId;
    this.#sessionHeaders = {
      ...this.#sessionHeaders,
      ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
      'mcp-protocol-version': handshake.protocolVersion,
    };
    // Awaited, so that no request of the session can overtake it on another connection.
    await this.#acknowledged({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (!this.#closed) this.#openStream();
    return handshake;
  }

  request(method: string, params: Record<string, unknown> | undefined, options: CallOptions = NO_OPTIONS): Promise<Record<string, unknown>> {
    return this.#caller.call(this.#sessionHeaders, method, params, options);
  }

  notify(method: string, params: Record<string, unknown> | undefined): void {
    this.#caller.post(this.#sessionHeaders, { jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  async close(drain = false): Promise<void> {
    this.#closed = true;
    this.#stream?.close();
    this.#link.close(drain);
  }

  #openStream(): void {
    const { 'content-type': _, ...headers } = this.#sessionHeaders;
    const stream = new NotificationStream(this.#link, { ...headers, accept: 'text/event-stream' }, this.#options.limits.maxResponseBytes, {
      message: (message) => this.#onStreamMessage(message),
      lost: (reason) => this.#lose(reason),
      gaveUp: (reason) => this.#options.log?.('no notification stream from the service', { service: this.#options.service, reason }),
    });
    this.#stream = stream;
    stream.open();
  }

  /** A message the service sent on its own: a notification, or a request to answer on the session. */
  #onStreamMessage(message: Message): void {
    if (this.#closed || typeof message.method !== 'string') return; // answers to nothing we asked there
    const { method } = message;
    const params = message.params ?? {};
    const id = message.id;
    if (id === undefined || id === null) {
      this.#events.notification(method, params);
      return;
    }
    void answerOf(() => this.#events.request(method, message.params)).then((answer) => {
      if (!this.#closed) this.#caller.post(this.#sessionHeaders, { jsonrpc: '2.0', id, ...answer });
    });
  }

  #lose(reason: string): void {
    if (this.#lost || this.#closed) return;
    this.#lost = true;
    this.#events.sessionLost(reason);
  }

  /** Posts a message the service only acknowledges, and waits for it to. */
  #acknowledged(message: Record<string, unknown>): Promise<void> {
    const { connectMs } = this.#options.limits;
    const method = String(message['method']);
    return new Promise((resolve, reject) => {
      let exchange: Exchange | undefined;
      let over = false;
      const settle = (error?: Error) => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        if (error === undefined) return resolve();
        exchange?.abort();
        reject(error);
      };
      const timer = setTimeout(() => settle(new UpstreamTimeoutError(`no acknowledgement of ${method} within the deadline`)), connectMs);
      const acknowledged: ExchangeEvents = { head: NOOP, data: NOOP, end: () => settle(), error: (error) => settle(error) };
      exchange = this.#link.send(
        'POST',
        this.#sessionHeaders,
        JSON.stringify(message),
        withRefusals(this.#sessionId !== undefined, acknowledged, (status, statusText, lost) => settle(refusalError(status, statusText, lost))),
      );
    });
  }
}

/** The handshake in `initialize`'s result, or why the gateway cannot take it. */
export function handshakeOf(service: string, result: Record<string, unknown>): UpstreamHandshake {
  const { protocolVersion, capabilities, serverInfo, instructions, _meta } = result;
  if (typeof protocolVersion !== 'string' || !SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion)) {
    // Only a version-shaped value is repeated: anything else is the service's own text.
    const shown = typeof protocolVersion === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(protocolVersion) ? protocolVersion : 'an unknown one';
    throw new InvalidAnswerError(
      `service "${service}" answered initialize with protocol version ${shown}, which the gateway does not speak (it speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
      `protocol version ${JSON.stringify(protocolVersion ?? null).slice(0, 60)}`,
    );
  }
  if (typeof capabilities !== 'object' || capabilities === null || Array.isArray(capabilities))
    throw new InvalidAnswerError(`service "${service}" answered initialize without its capabilities`);
  const info = (typeof serverInfo === 'object' && serverInfo !== null ? serverInfo : {}) as Record<string, unknown>;
  if (typeof info['name'] !== 'string') throw new InvalidAnswerError(`service "${service}" answered initialize without its name (serverInfo)`);
  const handshake: UpstreamHandshake = {
    protocolVersion,
    capabilities: capabilities as ServerCapabilities,
    serverInfo: { name: info['name'], version: typeof info['version'] === 'string' ? info['version'] : '' },
    ...(typeof instructions === 'string' ? { instructions } : {}),
  };
  const instances = instancesOf(_meta);
  return instances.length === 0 ? handshake : { ...handshake, instances };
}

/** The factory of streamable HTTP transports (the only kind so far). */
export function createStreamableHttpTransport(options: TransportOptions, events: TransportEvents): UpstreamTransport {
  return new StreamableHttpTransport(options, events);
}
