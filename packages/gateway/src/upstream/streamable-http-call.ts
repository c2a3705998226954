import { StringDecoder } from 'node:string_decoder';
import { exceedsJsonDepth } from '@meshgate/service-kit';
import { ProtocolError } from '@modelcontextprotocol/client';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { InvalidAnswerError, SessionLostError, UpstreamHttpError, UpstreamTimeoutError } from './errors.js';
import type { Exchange, ExchangeEvents, HttpLink, ResponseHeaders } from './exchange.js';
import { MAX_ANSWER_DEPTH } from './limits.js';
import { withRefusals } from './lost-session.js';
import { type Downstream, relayRefusal } from './relay.js';
import type { CallOptions, TransportLimits } from './transport.js';

/**
 * One request of the streamable HTTP transport: a plain keep-alive POST and its answer,
 * the path every forwarded call takes. The SDK client transport costs about 1 ms of CPU
 * per call (web streams, zod, AbortSignal plumbing; see docs/performance.md); this does
 * the same protocol work directly:
 *
 * - the JSON or event-stream answer is read with the response size cap;
 * - the deadline runs from the request, progress for this call extends it up to the
 *   absolute maximum, and on expiry or the client's cancellation the request is closed
 *   and `notifications/cancelled` sent;
 * - progress goes to the caller, log messages to the caller's client, other
 *   notifications to the transport's events; the service's requests during the call
 *   (sampling, elicitation, roots) are relayed to the caller's client and answered on the
 *   session;
 * - a stream closed before the answer is resumed with `Last-Event-ID`.
 */

/** A JSON-RPC message as read off the wire, unchecked. */
export type Message = {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

/**
 * Parses one message a service sent, refusing JSON nested deeper than the gateway takes
 * from its clients: an answer thousands of levels deep parses, but overflows the stack
 * wherever it is walked later (serialised for the client, validated by the SDK).
 */
export function parseServiceJson(text: string): unknown {
  if (exceedsJsonDepth(text, MAX_ANSWER_DEPTH)) throw new InvalidAnswerError(`the answer nests JSON deeper than ${MAX_ANSWER_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the body: the service's text, for the log only.
    throw new InvalidAnswerError('the answer is not valid JSON', (error as Error).message);
  }
}

const MAX_RESUMES = 3;
/** How long a service may keep a call's event stream open after its answer. */
const STREAM_GRACE_MS = 1_000;

/** The answer to a service's request, as a JSON-RPC result or error. */
export async function answerOf(
  ask: () => Promise<Record<string, unknown>>,
): Promise<{ result: Record<string, unknown> } | { error: { code: number; message: string } }> {
  try {
    return { result: await ask() };
  } catch (error) {
    const code = typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -32603;
    return { error: { code, message: error instanceof Error ? error.message : String(error) } };
  }
}

export class StreamableHttpCaller {
  #nextId = 0;

  /**
   * @param ack makes the events of a message the service only acknowledges (cancellations,
   *   answers to its requests); all they can say is that the session is gone.
   */
  constructor(
    readonly service: string,
    readonly link: HttpLink,
    readonly limits: TransportLimits,
    readonly onNotification: (method: string, params: Record<string, unknown>) => void,
    readonly ack: () => ExchangeEvents,
  ) {}

  /**
   * Sends one request with `sessionHeaders` (built once per session) and resolves with its
   * result. `onHead` hears the answer's headers when it is a 200 (the session id of an
   * `initialize`); calls leave it out.
   */
  call(
    sessionHeaders: Record<string, string>,
    method: string,
    params: Record<string, unknown> | undefined,
    options: CallOptions,
    onHead?: (headers: ResponseHeaders) => void,
  ): Promise<Record<string, unknown>> {
    this.#nextId += 1;
    const id = `meshgate-${this.#nextId}`;
    const { signal, downstream, onprogress } = options;
    const deadlineMs = options.timeoutMs ?? this.limits.requestMs;
    const progressToken = (params?.['_meta'] as { progressToken?: unknown } | undefined)?.progressToken;
    const started = Date.now();

    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let current: Exchange | undefined;
      let lastEventId: string | undefined;
      let resumes = 0;

      const finish = (error: Error | undefined, result?: Record<string, unknown>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve(result ?? {});
        else {
          current?.abort();
          reject(error);
        }
      };
      const cancel = (reason: string) => {
        this.post(sessionHeaders, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
      };
      const arm = () => {
        clearTimeout(timer);
        const left = Math.min(deadlineMs, this.limits.maxRequestMs - (Date.now() - started));
        timer = setTimeout(
          () => {
            cancel("the gateway's deadline passed");
            finish(new UpstreamTimeoutError(`no answer to ${method} within the deadline`));
          },
          Math.max(0, left),
        );
      };
      const onAbort = () => {
        cancel('the client cancelled the request');
        const error = new Error('the client cancelled the request');
        error.name = 'AbortError';
        finish(error);
      };

      const onMessage = (message: Message, fromStream: boolean) => {
        if (message.method === undefined) {
          if (message.id !== id) {
            // On a stream, an answer to another request is not ours to judge; a JSON body must be ours.
            if (!fromStream) finish(new InvalidAnswerError('the service answered another request id'));
            return;
          }
          if (message.error !== undefined) finish(new ProtocolError(message.error.code, message.error.message, message.error.data));
          else if (typeof message.result === 'object' && message.result !== null) finish(undefined, message.result as Record<string, unknown>);
          else finish(new InvalidAnswerError('the answer has neither a result object nor an error'));
          return;
        }
        const messageParams = message.params ?? {};
        if (message.id !== undefined && message.id !== null) {
          void this.#relay(sessionHeaders, downstream, message as Message & { method: string; id: string | number });
        } else if (message.method === 'notifications/progress') {
          if (progressToken === undefined || messageParams['progressToken'] !== progressToken) return;
          arm();
          onprogress?.(messageParams as { progress: number; total?: number; message?: string });
        } else if (message.method === 'notifications/message' && downstream !== undefined) {
          void downstream.notify(message.method, messageParams).catch(() => undefined);
        } else {
          this.onNotification(message.method, messageParams);
        }
      };

      /** Reads one exchange's answer: a JSON body, or an event stream (resumed when it ends early). */
      const answerReader = (): ExchangeEvents => {
        let bytes = 0;
        const chunks: Buffer[] = [];
        /** Set for an event stream (a JSON answer needs neither). */
        let stream: { parser: EventSourceParser; decoder: StringDecoder } | undefined;
        const newParser = () =>
          createParser({
            onEvent: (event) => {
              if (event.id !== undefined) lastEventId = event.id;
              if (settled || event.data === '') return;
              let message: Message;
              try {
                message = parseServiceJson(event.data) as Message;
              } catch (error) {
                return finish(error as InvalidAnswerError);
              }
              if (typeof message === 'object' && message !== null) onMessage(message, true);
              // Answered: the service should end the stream now. One that keeps it open would
              // hold a connection per call; it gets a moment, then the stream is closed.
              if (settled) current?.closeWithin(STREAM_GRACE_MS);
            },
          });
        const answer: ExchangeEvents = {
          head: (status, _statusText, headers) => {
            if (status !== 200) return finish(new InvalidAnswerError(`unexpected HTTP ${status} to a request`));
            onHead?.(headers);
            const contentType = headers['content-type'];
            const type = typeof contentType === 'string' ? contentType.toLowerCase() : '';
            if (type.startsWith('text/event-stream')) stream = { parser: newParser(), decoder: new StringDecoder('utf8') };
            else if (!type.startsWith('application/json'))
              finish(
                new InvalidAnswerError(
                  'unexpected content type (neither application/json nor text/event-stream)',
                  `content type ${JSON.stringify(type.slice(0, 60))}`,
                ),
              );
          },
          data: (chunk) => {
            bytes += chunk.length;
            if (bytes > this.limits.maxResponseBytes) return finish(new InvalidAnswerError(`response exceeds ${this.limits.maxResponseBytes} bytes`));
            if (stream !== undefined) stream.parser.feed(stream.decoder.write(chunk));
            else if (!settled) chunks.push(chunk);
          },
          end: () => {
            if (settled) return;
            if (stream !== undefined) {
              stream.parser.feed(stream.decoder.end());
              if (settled) return;
              if (lastEventId !== undefined && resumes < MAX_RESUMES) {
                // The service closed the stream before answering: resume it (SSE polling).
                resumes += 1;
                current = this.link.send('GET', { ...sessionHeaders, accept: 'text/event-stream', 'last-event-id': lastEventId }, undefined, answerReader());
                return;
              }
              return finish(new InvalidAnswerError('the event stream ended without an answer'));
            }
            let message: Message;
            try {
              message = parseServiceJson(Buffer.concat(chunks).toString('utf8')) as Message;
            } catch (error) {
              return finish(error as InvalidAnswerError);
            }
            if (typeof message !== 'object' || message === null || Array.isArray(message))
              return finish(new InvalidAnswerError('the answer is not a JSON-RPC message'));
            onMessage(message, false);
            if (!settled) finish(new InvalidAnswerError('the answer is not a JSON-RPC response'));
          },
          error: (error) => finish(error),
        };
        return withRefusals(sessionHeaders['mcp-session-id'] !== undefined, answer, (status, statusText, lost) =>
          finish(refusalError(status, statusText, lost)),
        );
      };

      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      arm();
      const body = JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
      const headers = options.headers === undefined ? sessionHeaders : { ...sessionHeaders, ...options.headers };
      current = this.link.send('POST', headers, body, answerReader());
    });
  }

  /** Answers a service's request made during the call, after asking the call's client. */
  async #relay(
    sessionHeaders: Record<string, string>,
    downstream: Downstream | undefined,
    message: Message & { method: string; id: string | number },
  ): Promise<void> {
    const answer = await answerOf(() => {
      if (downstream === undefined) throw relayRefusal(message.method, this.service);
      return downstream.request(message.method, message.params);
    });
    this.post(sessionHeaders, { jsonrpc: '2.0', id: message.id, ...answer });
  }

  /** A message the service only acknowledges (202): sent and forgotten, but for a lost session (`ack`). */
  post(sessionHeaders: Record<string, string>, message: Record<string, unknown>): void {
    this.link.send('POST', sessionHeaders, JSON.stringify(message), this.ack());
  }
}

/** The error of a request the service refused (a status outside 2xx). */
export function refusalError(status: number, statusText: string, sessionLost: boolean): Error {
  if (sessionLost) return new SessionLostError(`the service no longer knows the session (HTTP ${status})`);
  if (status >= 300 && status < 400) return new InvalidAnswerError(`unexpected redirect (HTTP ${status}); redirects are not followed`);
  return new UpstreamHttpError(status, statusText);
}
