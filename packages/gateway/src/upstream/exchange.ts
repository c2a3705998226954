import type { LookupFunction } from 'node:net';
import { type Dispatcher, Pool } from 'undici';

/** A response's headers as undici hands them over: names in lower case. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What one HTTP exchange with a service reports: `head`, any `data`, then `end`; or `error` at any point. */
export interface ExchangeEvents {
  /** `headers` is undici's own object, not a copy: read what is needed, do not keep it. */
  head(status: number, statusText: string, headers: ResponseHeaders): void;
  data(chunk: Buffer): void;
  end(): void;
  error(error: Error): void;
}

/** One request in flight and its answer. */
export interface Exchange {
  /** Closes it now, connection included; no event is reported after this. */
  abort(): void;
  /**
   * The caller has what it wanted: the exchange is aborted unless it ends by itself within
   * `ms`. (A service may keep a call's event stream open after the answer; that would hold
   * a connection per call.)
   */
  closeWithin(ms: number): void;
}

/** An exchange given a deadline by `closeWithin`. */
interface Lingering {
  deadline: number;
  abort(): void;
}

/** How often lingering exchanges are checked: their grace is this much longer at most. */
const SWEEP_MS = 250;

/**
 * Where the streamable HTTP transport sends its requests: one service's MCP URL. An
 * interface so that tests can script a service's answers without sockets.
 */
export interface HttpLink {
  /** Sends one request to the service's MCP URL; `events` hears how it goes. */
  send(method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, events?: ExchangeEvents): Exchange;
  /** Closes the connections: at once (requests in flight fail), or once the requests in flight are over. */
  close(drain?: boolean): void;
}

const IGNORE: ExchangeEvents = { head: () => undefined, data: () => undefined, end: () => undefined, error: () => undefined };

/**
 * The keep-alive connections to one service, for the streamable HTTP transport. It is
 * undici's dispatcher API rather than node:http's client, which costs about twice as much
 * CPU per request (docs/performance.md). undici's own header and body timeouts are off:
 * the caller's deadline, which progress extends, is the only one.
 */
export class ServiceLink implements HttpLink {
  readonly #pool: Pool;
  readonly #path: string;
  /**
   * Exchanges past their answer, closed by one sweep. A timer per exchange would keep every
   * call's state alive for the whole grace period, long enough for the garbage collector to
   * promote it to the old generation: measurably more GC per call under load.
   */
  readonly #lingering = new Set<Lingering>();
  #sweeper: NodeJS.Timeout | undefined;

  /** `lookup` resolves the service's host name for every new connection (the SSRF guard's, for registered services). */
  constructor(url: URL, lookup?: LookupFunction) {
    this.#pool = new Pool(url.origin, { connections: 256, headersTimeout: 0, bodyTimeout: 0, ...(lookup === undefined ? {} : { connect: { lookup } }) });
    this.#path = `${url.pathname}${url.search}`;
  }

  /** Sends one request to the service's MCP URL; `events` hears how it goes. */
  send(method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, events: ExchangeEvents = IGNORE): Exchange {
    let controller: Dispatcher.DispatchController | undefined;
    let over = false; // ended, failed or aborted: nothing more is reported
    const lingering: Lingering = { deadline: 0, abort: () => exchange.abort() };
    const abortBy = (owner: Dispatcher.DispatchController) => owner.abort(new Error('the gateway closed the request'));
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: (started) => {
        controller = started;
        if (over) abortBy(started);
      },
      onResponseStart: (_, status, responseHeaders, statusText) => {
        if (!over) events.head(status, statusText ?? '', responseHeaders as ResponseHeaders);
      },
      onResponseData: (_, chunk) => {
        if (!over) events.data(chunk);
      },
      onResponseEnd: () => {
        this.#lingering.delete(lingering);
        if (over) return;
        over = true;
        events.end();
      },
      onResponseError: (_, error) => {
        this.#lingering.delete(lingering);
        if (over) return;
        over = true;
        events.error(error);
      },
    };
    this.#pool.dispatch({ path: this.#path, method, headers, ...(body === undefined ? {} : { body }) }, handler);
    const exchange: Exchange = {
      abort: () => {
        this.#lingering.delete(lingering);
        if (over) return;
        over = true;
        if (controller !== undefined) abortBy(controller);
      },
      closeWithin: (ms) => {
        if (over) return;
        lingering.deadline = Date.now() + ms;
        this.#lingering.add(lingering);
        this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
      },
    };
    return exchange;
  }

  #sweep(): void {
    const now = Date.now();
    for (const lingering of this.#lingering) if (lingering.deadline <= now) lingering.abort();
    if (this.#lingering.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /**
   * Closes every connection: requests still in flight fail, or, with `drain`, run to their
   * end (their deadlines and the lingering sweep bound how long) while new ones fail.
   */
  close(drain = false): void {
    if (drain) {
      this.#pool.close().catch(() => undefined);
      return;
    }
    clearInterval(this.#sweeper);
    this.#lingering.clear();
    this.#pool.destroy().catch(() => undefined);
  }
}
