import { StringDecoder } from 'node:string_decoder';
import { createParser } from 'eventsource-parser';
import type { Exchange, ExchangeEvents, HttpLink } from './exchange.js';
import { withRefusals } from './lost-session.js';
import { type Message, parseServiceJson } from './streamable-http-call.js';

/** What the GET stream of a session reports. */
export interface StreamHandlers {
  /** A message the service sent on its own. */
  message(message: Message): void;
  /** The service no longer knows the session. */
  lost(reason: string): void;
  /** The stream is given up for a reason worth a log line. */
  gaveUp(reason: string): void;
}

/** Reopening a dropped stream waits this long, doubling per failure up to the cap (as the SDK client does). */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * The GET stream of one streamable HTTP session: where the service sends what is not
 * part of an answer (list changes, resource updates, log messages, requests such as SDK
 * v2's `requestSampling`). A service without one answers 405, which ends it quietly; a
 * stream that drops is reopened with capped backoff and `Last-Event-ID`, so nothing sent
 * in between is lost by a service that keeps its events. It is long-lived and carries
 * many small messages, so the size cap applies to each event, not the whole stream.
 */
export class NotificationStream {
  readonly #link: HttpLink;
  readonly #headers: Record<string, string>;
  readonly #maxEventBytes: number;
  readonly #handlers: StreamHandlers;
  #exchange: Exchange | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastEventId: string | undefined;
  /** The service's `retry:` advice, which replaces the first delay. */
  #retryMs = FIRST_RETRY_MS;
  #failures = 0;
  #closed = false;

  /** `headers` are the session's, for a GET (`accept: text/event-stream`). */
  constructor(link: HttpLink, headers: Record<string, string>, maxEventBytes: number, handlers: StreamHandlers) {
    this.#link = link;
    this.#headers = headers;
    this.#maxEventBytes = maxEventBytes;
    this.#handlers = handlers;
  }

  open(): void {
    if (this.#closed) return;
    const headers = this.#lastEventId === undefined ? this.#headers : { ...this.#headers, 'last-event-id': this.#lastEventId };
    this.#exchange = this.#link.send('GET', headers, undefined, this.#reader());
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#exchange?.abort();
  }

  #reader(): ExchangeEvents {
    const decoder = new StringDecoder('utf8');
    let pending = 0; // bytes of the event being received
    let over = false;
    const stop = (why: string | undefined) => {
      over = true;
      this.#exchange?.abort();
      if (why !== undefined) this.#handlers.gaveUp(why);
    };
    const parser = createParser({
      onEvent: (event) => {
        pending = 0;
        this.#failures = 0;
        if (event.id !== undefined) this.#lastEventId = event.id;
        if (over || this.#closed || event.data === '') return;
        let message: unknown;
        try {
          message = parseServiceJson(event.data);
        } catch {
          return; // one bad (or too deeply nested) event does not cost the stream
        }
        if (typeof message === 'object' && message !== null && !Array.isArray(message)) this.#handlers.message(message as Message);
      },
      onRetry: (ms) => {
        if (ms > 0) this.#retryMs = Math.min(ms, MAX_RETRY_MS);
      },
    });
    const stream: ExchangeEvents = {
      head: (status, _statusText, headers) => {
        const type = headers['content-type'];
        if (status !== 200) stop(`the service answered the notification stream with HTTP ${status}`);
        else if (typeof type !== 'string' || !type.toLowerCase().startsWith('text/event-stream')) stop('the notification stream is not an event stream');
      },
      data: (chunk) => {
        if (over) return;
        pending += chunk.length;
        // An event that never ends would otherwise be buffered without bound.
        if (pending > this.#maxEventBytes) return stop(`an event on the notification stream exceeds ${this.#maxEventBytes} bytes`);
        parser.feed(decoder.write(chunk));
      },
      end: () => {
        if (over) return;
        parser.feed(decoder.end());
        this.#reopen();
      },
      error: () => {
        if (!over) this.#reopen();
      },
    };
    return withRefusals(this.#headers['mcp-session-id'] !== undefined, stream, (status, _statusText, lost) => {
      if (status === 405) return stop(undefined); // the service has no such stream: fine
      if (!lost) return stop(`the service refused the notification stream (HTTP ${status})`);
      stop(undefined);
      this.#handlers.lost(`the service no longer knows the session (HTTP ${status} on its notification stream)`);
    });
  }

  #reopen(): void {
    if (this.#closed) return;
    const delay = Math.min(MAX_RETRY_MS, this.#retryMs * 2 ** this.#failures);
    this.#failures += 1;
    this.#timer = setTimeout(() => this.open(), delay).unref();
  }
}
