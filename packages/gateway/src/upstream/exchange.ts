import { Pool, type Dispatcher } from 'undici';

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
  /** True once the answer was read to its end. */
  readonly complete: boolean;
}

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

  constructor(url: URL) {
    this.#pool = new Pool(url.origin, { connections: 256, headersTimeout: 0, bodyTimeout: 0 });
    this.#path = `${url.pathname}${url.search}`;
  }

  /** Sends one request to the service's MCP URL; `events` hears how it goes. */
  send(method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, events: ExchangeEvents = IGNORE): Exchange {
    let controller: Dispatcher.DispatchController | undefined;
    let over = false; // ended, failed or aborted: nothing more is reported
    let complete = false;
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
        complete = true;
        if (over) return;
        over = true;
        events.end();
      },
      onResponseError: (_, error) => {
        if (over) return;
        over = true;
        events.error(error);
      },
    };
    this.#pool.dispatch({ path: this.#path, method, headers, ...(body === undefined ? {} : { body }) }, handler);
    return {
      abort: () => {
        if (over) return;
        over = true;
        if (controller !== undefined) abortBy(controller);
      },
      get complete() {
        return complete;
      },
    };
  }

  /** Closes every connection; requests still in flight fail. */
  close(): void {
    this.#pool.destroy().catch(() => undefined);
  }
}
