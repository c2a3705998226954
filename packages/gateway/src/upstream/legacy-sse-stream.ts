import { StringDecoder } from 'node:string_decoder';
import { createParser } from 'eventsource-parser';
import { InvalidAnswerError, UpstreamHttpError } from './errors.js';
import type { ExchangeEvents } from './exchange.js';
import type { Message } from './streamable-http-call.js';

/** What the GET stream of an HTTP+SSE session reports to its transport. */
export interface LegacyStreamHandlers {
  /** An `endpoint` event's data; a reason returned refuses it and ends the stream. */
  endpoint(data: string): string | undefined;
  /** A JSON-RPC message (a `message` event, or one without a name). */
  message(message: Message): void;
  /** The stream is over, once: `error` is what it failed with, when there is more to say than `reason`. */
  ended(reason: string, error?: Error): void;
}

/**
 * Reads the one stream of an HTTP+SSE session: its `endpoint` event, then every message
 * of the service, until it ends. The stream is long-lived and carries many small events,
 * so the cap applies to each event (one that never ends would otherwise be buffered
 * without bound); a bad event is skipped, as one bad event does not cost the session.
 */
export function legacyStreamReader(service: string, maxEventBytes: number, handlers: LegacyStreamHandlers): ExchangeEvents {
  const decoder = new StringDecoder('utf8');
  let pending = 0; // bytes of the event being received
  let over = false;
  const end = (reason: string, error?: Error) => {
    if (over) return;
    over = true;
    handlers.ended(reason, error);
  };
  const parser = createParser({
    onEvent: (event) => {
      pending = 0;
      if (over) return;
      if (event.event === 'endpoint') {
        const refused = handlers.endpoint(event.data);
        if (refused !== undefined) end(refused);
        return;
      }
      if (event.event !== undefined && event.event !== 'message') return;
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (typeof message === 'object' && message !== null && !Array.isArray(message)) handlers.message(message as Message);
    },
  });
  return {
    head: (status, statusText, headers) => {
      if (status === 200) {
        const type = headers['content-type'];
        if (typeof type !== 'string' || !type.toLowerCase().startsWith('text/event-stream')) {
          end(`service "${service}" answered its SSE URL with no event stream`);
        }
        return;
      }
      if (status >= 300 && status < 400) {
        end('redirect', new InvalidAnswerError(`unexpected redirect (HTTP ${status}); redirects are not followed`));
        return;
      }
      end(`HTTP ${status}`, new UpstreamHttpError(status, statusText));
    },
    data: (chunk) => {
      if (over) return;
      pending += chunk.length;
      if (pending > maxEventBytes) {
        end(`an event on the event stream of service "${service}" exceeds ${maxEventBytes} bytes`);
        return;
      }
      parser.feed(decoder.write(chunk));
    },
    end: () => {
      if (over) return;
      parser.feed(decoder.end());
      end(`service "${service}" closed its event stream`);
    },
    error: (error) => end(`the event stream of service "${service}" failed`, error),
  };
}
