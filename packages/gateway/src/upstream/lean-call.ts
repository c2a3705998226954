import { StringDecoder } from 'node:string_decoder';
import { ProtocolError } from '@modelcontextprotocol/client';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { type Exchange, type ExchangeEvents, ServiceLink } from './exchange.js';
import { type Downstream, relayRefusal } from './relay.js';

/**
 * One upstream call over a plain keep-alive HTTP request, on the session the SDK client
 * opened: the lean path every forwarded request takes. The SDK client transport costs
 * about 1 ms of CPU per call (web streams, zod, AbortSignal plumbing; see
 * docs/performance.md); this does the same protocol work directly:
 *
 * - the JSON or event-stream answer is read with the response size cap;
 * - the deadline runs from the request, progress for this call extends it up to the
 *   absolute maximum, and on expiry or the client's cancellation the request is closed
 *   and `notifications/cancelled` sent;
 * - progress goes to the caller, log messages to the caller's client, other
 *   notifications to the gateway; the service's requests during the call (sampling,
 *   elicitation, roots) are relayed to the caller's client and answered on the session;
 * - a stream closed before the answer is resumed with `Last-Event-ID`.
 */

export interface LeanSession {
  sessionId: string | undefined;
  protocolVersion: string | undefined;
}

export interface LeanCallOptions {
  signal?: AbortSignal;
  /** This call's deadline, in place of the limits' `requestMs` (progress still extends it up to `maxRequestMs`). */
  timeoutMs?: number;
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  downstream?: Downstream;
}

export interface LeanLimits {
  requestMs: number;
  maxRequestMs: number;
  maxResponseBytes: number;
}

/** The service answered with an HTTP status other than 200 (the body is never kept). */
export class UpstreamHttpError extends Error {
  override readonly name = 'UpstreamHttpError';
  constructor(
    readonly status: number,
    readonly statusText: string,
  ) {
    super(`HTTP ${status}${statusText === '' ? '' : ` ${statusText}`}`);
  }
}

/** The service forgot our session (404 on a request that carried one): it restarted. */
export class SessionLostError extends Error {
  override readonly name = 'SessionLostError';
}

/** The deadline passed without an answer. */
export class UpstreamTimeoutError extends Error {
  override readonly name = 'UpstreamTimeoutError';
}

/** The service's answer is not a valid answer to the call (id, framing, size). */
export class InvalidAnswerError extends Error {
  override readonly name = 'InvalidAnswerError';
}

type Message = {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

const MAX_RESUMES = 3;
/** How long a service may keep a call's event stream open after its answer. */
const STREAM_GRACE_MS = 1_000;

export interface LeanCallerOptions {
  service: string;
  url: string;
  /** The service's own credential, as headers. */
  headers: Record<string, string>;
  limits: LeanLimits;
  /** The downstreams of the calls in flight, for requests a service sends on its GET stream (relay.ts). */
  callers: Set<Downstream>;
  /** A notification that is not this call's progress or log message. */
  onNotification: (method: string, params: Record<string, unknown>) => void;
}

export class LeanCaller {
  readonly #link: ServiceLink;
  /** The headers of the current session, built once per session. */
  #headersOf: { session: LeanSession; headers: Record<string, string> } | undefined;
  readonly service: string;
  readonly headers: Record<string, string>;
  readonly limits: LeanLimits;
  readonly callers: Set<Downstream>;
  readonly onNotification: (method: string, params: Record<string, unknown>) => void;
  #nextId = 0;

  constructor(options: LeanCallerOptions) {
    ({ service: this.service, headers: this.headers, limits: this.limits, callers: this.callers, onNotification: this.onNotification } = options);
    this.#link = new ServiceLink(new URL(options.url));
  }

  call(session: LeanSession, method: string, params: Record<string, unknown> | undefined, options: LeanCallOptions = {}): Promise<Record<string, unknown>> {
    this.#nextId += 1;
    const id = `meshgate-${this.#nextId}`;
    const { signal, downstream, onprogress } = options;
    const deadlineMs = options.timeoutMs ?? this.limits.requestMs;
    const progressToken = (params?.['_meta'] as { progressToken?: unknown } | undefined)?.progressToken;
    const started = Date.now();
    const sessionHeaders = this.#sessionHeaders(session);

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
        if (downstream !== undefined) this.callers.delete(downstream);
        if (error === undefined) resolve(result ?? {});
        else {
          current?.abort();
          reject(error);
        }
      };
      const cancel = (reason: string) => {
        this.#notify(sessionHeaders, 'notifications/cancelled', { requestId: id, reason });
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
                message = JSON.parse(event.data) as Message;
              } catch {
                return finish(new InvalidAnswerError('an event carried invalid JSON'));
              }
              if (typeof message === 'object' && message !== null) onMessage(message, true);
              // Answered: the service should end the stream now. One that keeps it open would
              // hold a connection per call; it gets a moment, then the stream is closed.
              if (settled) current?.closeWithin(STREAM_GRACE_MS);
            },
          });
        return {
          head: (status, statusText, contentType) => {
            if (status !== 200) {
              if (status === 404 && session.sessionId !== undefined) return finish(new SessionLostError('the service no longer knows the session'));
              if (status >= 300 && status < 400) return finish(new InvalidAnswerError(`unexpected redirect (HTTP ${status}); redirects are not followed`));
              return finish(new UpstreamHttpError(status, statusText));
            }
            const type = contentType.toLowerCase();
            if (type.startsWith('text/event-stream')) stream = { parser: newParser(), decoder: new StringDecoder('utf8') };
            else if (!type.startsWith('application/json')) finish(new InvalidAnswerError(`unexpected content type ${JSON.stringify(type.slice(0, 60))}`));
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
                current = this.#link.send('GET', { ...sessionHeaders, accept: 'text/event-stream', 'last-event-id': lastEventId }, undefined, answerReader());
                return;
              }
              return finish(new InvalidAnswerError('the event stream ended without an answer'));
            }
            let message: Message;
            try {
              message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Message;
            } catch (error) {
              return finish(new InvalidAnswerError(`invalid JSON: ${(error as Error).message}`));
            }
            if (typeof message !== 'object' || message === null || Array.isArray(message))
              return finish(new InvalidAnswerError('the answer is not a JSON-RPC message'));
            onMessage(message, false);
            if (!settled) finish(new InvalidAnswerError('the answer is not a JSON-RPC response'));
          },
          error: (error) => finish(error),
        };
      };

      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (downstream !== undefined) this.callers.add(downstream);
      arm();
      const body = JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
      current = this.#link.send('POST', sessionHeaders, body, answerReader());
    });
  }

  /** Answers a service's request made during the call, after asking the call's client. */
  async #relay(
    sessionHeaders: Record<string, string>,
    downstream: Downstream | undefined,
    message: Message & { method: string; id: string | number },
  ): Promise<void> {
    let answer: Record<string, unknown>;
    try {
      if (downstream === undefined) throw relayRefusal(message.method, this.service);
      answer = { result: await downstream.request(message.method, message.params) };
    } catch (error) {
      const code = typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -32603;
      answer = { error: { code, message: error instanceof Error ? error.message : String(error) } };
    }
    this.#post(sessionHeaders, { jsonrpc: '2.0', id: message.id, ...answer });
  }

  #notify(sessionHeaders: Record<string, string>, method: string, params: Record<string, unknown>): void {
    this.#post(sessionHeaders, { jsonrpc: '2.0', method, params });
  }

  /** A message the service only acknowledges (202): sent and forgotten. */
  #post(sessionHeaders: Record<string, string>, message: Record<string, unknown>): void {
    this.#link.send('POST', sessionHeaders, JSON.stringify(message));
  }

  #sessionHeaders(session: LeanSession): Record<string, string> {
    const cached = this.#headersOf;
    if (cached !== undefined && cached.session.sessionId === session.sessionId && cached.session.protocolVersion === session.protocolVersion)
      return cached.headers;
    const headers = {
      ...this.headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(session.sessionId === undefined ? {} : { 'mcp-session-id': session.sessionId }),
      ...(session.protocolVersion === undefined ? {} : { 'mcp-protocol-version': session.protocolVersion }),
    };
    this.#headersOf = { session: { ...session }, headers };
    return headers;
  }

  /** Closes the connections to the service. */
  close(): void {
    this.#link.close();
  }
}
