import { type Dispatcher, Pool } from 'undici';

/** What one HTTP exchange with a service reports: `head`, any `data`, then `end`; or `error` at any point. */
export interface ExchangeEvents {
  head(status: number, statusText: string, contentType: string): void;
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

const IGNORE: ExchangeEvents = { head: () => undefined, data: () => undefined, end: () => undefined, error: () => undefined };

/**
 * The keep-alive connections to one service, for the lean path (lean-call.ts). It is
 * undici's dispatcher API rather than node:http's client, which costs about twice as much
 * CPU per request (docs/performance.md). undici's own header and body timeouts are off:
 * the caller's deadline, which progress extends, is the only one.
 */
export class ServiceLink {
  readonly #pool: Pool;
  readonly #path: string;
  /**
   * Exchanges past their answer, closed by one sweep. A timer per exchange would keep every
   * call's state alive for the whole grace period, long enough for the garbage collector to
   * promote it to the old generation: measurably more GC per call under load.
   */
  readonly #lingering = new Set<Lingering>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(url: URL) {
    this.#pool = new Pool(url.origin, { connections: 256, headersTimeout: 0, bodyTimeout: 0 });
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
        if (over) return;
        const type = responseHeaders['content-type'];
        events.head(status, statusText ?? '', typeof type === 'string' ? type : '');
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

  /** Closes every connection; requests still in flight fail. */
  close(): void {
    clearInterval(this.#sweeper);
    this.#lingering.clear();
    this.#pool.destroy().catch(() => undefined);
  }
}
