import { describeCause, UpstreamHttpError } from './errors.js';
import { createLegacySseTransport } from './legacy-sse.js';
import { createStreamableHttpTransport } from './streamable-http.js';
import type { CallOptions, TransportEvents, TransportFactory, TransportOptions, UpstreamHandshake, UpstreamTransport } from './transport.js';

/** How the gateway speaks to a URL service: found out (`auto`), or said in its configuration. */
export type TransportKind = 'auto' | 'streamable-http' | 'sse';
export const TRANSPORT_KINDS = ['auto', 'streamable-http', 'sse'] as const satisfies readonly TransportKind[];

/**
 * The statuses with which a server that predates streamable HTTP refuses a POST of
 * `initialize` to its SSE URL: the spec's backwards-compatibility section says to try the
 * HTTP+SSE transport then (a 401 or 403 is about the credential, not the transport).
 */
const LEGACY_REFUSALS = new Set([400, 404, 405]);

/**
 * Detection as the spec's backwards-compatibility section describes it: POST `initialize`
 * to the URL; if the server refuses it with 400, 404 or 405, GET the URL for the HTTP+SSE
 * transport's `endpoint` event. Detection runs on every (re)connect, so a service that
 * moves to streamable HTTP is spoken to that way after its next restart.
 */
class DetectingTransport implements UpstreamTransport {
  #current: UpstreamTransport;
  #closed = false;

  constructor(
    private readonly options: TransportOptions,
    private readonly events: TransportEvents,
  ) {
    this.#current = createStreamableHttpTransport(options, events);
  }

  async start(signal?: AbortSignal): Promise<UpstreamHandshake> {
    try {
      return await this.#current.start(signal);
    } catch (error) {
      if (!(error instanceof UpstreamHttpError && LEGACY_REFUSALS.has(error.status)) || this.#closed) throw error;
      await this.#current.close();
      const { service } = this.options;
      this.options.log?.('service refused streamable HTTP; trying the HTTP+SSE transport', { service, status: error.status });
      this.#current = createLegacySseTransport(this.options, this.events);
      try {
        return await this.#current.start(signal);
      } catch (sseError) {
        // One message with both answers (no `cause`: describeCause would report only the deepest one).
        throw new Error(`neither transport answered: streamable HTTP (POST initialize): ${describeCause(error)}; HTTP+SSE (GET): ${describeCause(sseError)}`);
      }
    }
  }

  request(method: string, params: Record<string, unknown> | undefined, options?: CallOptions): Promise<Record<string, unknown>> {
    return this.#current.request(method, params, options);
  }

  notify(method: string, params: Record<string, unknown> | undefined): void {
    this.#current.notify(method, params);
  }

  close(drain?: boolean): Promise<void> {
    this.#closed = true;
    return this.#current.close(drain);
  }
}

/** The transport factory for a service's `transport` setting. */
export function transportFactoryFor(kind: TransportKind | undefined): TransportFactory {
  switch (kind) {
    case 'streamable-http':
      return createStreamableHttpTransport;
    case 'sse':
      return createLegacySseTransport;
    default:
      return (options, events) => new DetectingTransport(options, events);
  }
}
