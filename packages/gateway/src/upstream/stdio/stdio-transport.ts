import { ProtocolError } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import { ConnectionClosedError, InvalidAnswerError, UpstreamTimeoutError } from '../errors.js';
import { type Downstream, UPSTREAM_CLIENT_CAPABILITIES } from '../relay.js';
import { CLIENT_INFO, handshakeOf, REQUESTED_PROTOCOL_VERSION } from '../streamable-http.js';
import { answerOf, type Message } from '../streamable-http-call.js';
import type { CallOptions, TransportEvents, TransportLimits, UpstreamHandshake, UpstreamTransport } from '../transport.js';
import type { StdioChild } from './child.js';

/** Starts a process whose stdout lines go to `onLine`; rejects while a crashed service waits out its backoff. */
export type Spawner = (onLine: (line: string) => void, onSkipped: (head: string) => void) => StdioChild;

export interface StdioTransportOptions {
  service: string;
  limits: TransportLimits;
  logger: Logger;
  spawn: Spawner;
  /**
   * Who answers the service's requests (sampling, elicitation, roots, ping), given the
   * clients of this transport's calls in flight. The transport events' `request` unless given.
   */
  answer?: (method: string, params: Record<string, unknown> | undefined, callers: Downstream[]) => Promise<Record<string, unknown>>;
}

interface Pending {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
  /** The service sends progress under our request id: the caller's own token never leaves the gateway. */
  onprogress: CallOptions['onprogress'];
  downstream: Downstream | undefined;
  /** Restarts the deadline (progress extends it). */
  arm(): void;
}

const NO_OPTIONS: CallOptions = {};
/** An id in the first bytes of a line too long to read: `"id":12` or `"id":"x"`. */
const ID_IN_HEAD = /"id"\s*:\s*(\d+|"[^"]*")/;

/**
 * One MCP session over a process's stdin and stdout: newline-delimited JSON-RPC, one
 * message a line (lines bounded by the response size cap; what is not JSON-RPC is logged
 * and skipped). It keeps the `UpstreamTransport` contract of the HTTP transport: deadlines
 * extended by progress up to the maximum, `notifications/cancelled` on expiry or the
 * client's cancellation, the service's requests relayed, log messages and list changes
 * reported, and the process's end reported once as `sessionLost` (calls in flight reject
 * with `ConnectionClosedError`).
 */
export class StdioTransport implements UpstreamTransport {
  readonly #options: StdioTransportOptions;
  readonly #events: TransportEvents;
  readonly #pending = new Map<number, Pending>();
  #child: StdioChild | undefined;
  #nextId = 0;
  #closed = false;
  /** Closed with `drain`: the process ends once the last call in flight has settled. */
  #draining = false;
  #lost = false;
  #badLines = 0;

  constructor(options: StdioTransportOptions, events: TransportEvents) {
    this.#options = options;
    this.#events = events;
  }

  /** The process group serving this session, once started. */
  get pgid(): number | undefined {
    return this.#child?.pgid;
  }

  async start(signal?: AbortSignal): Promise<UpstreamHandshake> {
    const child = this.#options.spawn(
      (line) => this.#onLine(line),
      (head) => this.#onSkipped(head),
    );
    this.#child = child;
    void child.exited.then(({ reason }) => this.#onExit(reason));
    const params = { protocolVersion: REQUESTED_PROTOCOL_VERSION, capabilities: UPSTREAM_CLIENT_CAPABILITIES, clientInfo: CLIENT_INFO };
    const result = await this.request('initialize', params, { timeoutMs: this.#options.limits.connectMs, ...(signal ? { signal } : {}) });
    const handshake = handshakeOf(this.#options.service, result);
    this.notify('notifications/initialized', undefined);
    return handshake;
  }

  request(method: string, params: Record<string, unknown> | undefined, options: CallOptions = NO_OPTIONS): Promise<Record<string, unknown>> {
    const child = this.#child;
    if (this.#closed || child === undefined || !child.running) return Promise.reject(new ConnectionClosedError('the process is not running'));
    this.#nextId += 1;
    const id = this.#nextId;
    const { signal, downstream, onprogress } = options;
    const { requestMs, maxRequestMs } = this.#options.limits;
    const deadlineMs = options.timeoutMs ?? requestMs;
    const meta = params?.['_meta'] as Record<string, unknown> | undefined;
    const wantsProgress = meta?.['progressToken'] !== undefined;
    const body = wantsProgress ? { ...params, _meta: { ...meta, progressToken: id } } : params;
    const started = Date.now();

    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
        if (this.#draining && this.#pending.size === 0) void this.#child?.terminate();
      };
      const cancel = (reason: string) => this.notify('notifications/cancelled', { requestId: id, reason });
      const arm = () => {
        clearTimeout(timer);
        const left = Math.min(deadlineMs, maxRequestMs - (Date.now() - started));
        timer = setTimeout(
          () => {
            cancel("the gateway's deadline passed");
            settle();
            reject(new UpstreamTimeoutError(`no answer to ${method} within the deadline`));
          },
          Math.max(0, left),
        );
      };
      const onAbort = () => {
        cancel('the client cancelled the request');
        settle();
        const error = new Error('the client cancelled the request');
        error.name = 'AbortError';
        reject(error);
      };
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (result) => {
          settle();
          resolve(result);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
        onprogress: wantsProgress ? onprogress : undefined,
        downstream,
        arm,
      });
      arm();
      child.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(body === undefined ? {} : { params: body }) }));
    });
  }

  notify(method: string, params: Record<string, unknown> | undefined): void {
    if (this.#closed && method !== 'notifications/cancelled') return;
    this.#child?.send(JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) }));
  }

  /**
   * Ends the session and its process. With `drain`, calls in flight still get their answer
   * or their deadline first (the process is ended once none is left); without, they fail
   * now and the promise resolves once the process group is gone.
   */
  async close(drain = false): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const child = this.#child;
    if (child === undefined) return;
    if (drain && this.#pending.size > 0) {
      this.#draining = true; // the last call to settle ends the process (in `request`)
      return;
    }
    this.#failAll(new ConnectionClosedError('the gateway closed the session'));
    await child.terminate();
  }

  #onExit(reason: string): void {
    this.#failAll(new ConnectionClosedError(reason));
    if (this.#closed || this.#lost) return;
    this.#lost = true;
    this.#events.sessionLost(reason);
  }

  #failAll(error: Error): void {
    for (const pending of [...this.#pending.values()]) pending.reject(error);
  }

  #onSkipped(head: string): void {
    // A too-long answer fails its request now rather than at its deadline, when its id can be read.
    const match = ID_IN_HEAD.exec(head)?.[1];
    const id = match === undefined ? undefined : Number(match);
    const pending = id === undefined ? undefined : this.#pending.get(id);
    pending?.reject(new InvalidAnswerError(`the answer exceeds ${this.#options.limits.maxResponseBytes} bytes`));
  }

  #onLine(line: string): void {
    let message: Message;
    try {
      message = JSON.parse(line) as Message;
    } catch {
      this.#badLine('not JSON', line);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) this.#badLine('not a JSON-RPC message', line);
    else if (message.method === undefined) this.#onAnswer(message);
    else if (typeof message.method !== 'string') this.#badLine('a method that is not a string', line);
    else if (message.id !== undefined && message.id !== null) this.#onServiceRequest(message.method, message.id, message.params);
    else this.#onNotification(message.method, message.params ?? {});
  }

  #onAnswer(message: Message): void {
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (pending === undefined) return; // an answer to a call already given up on
    if (message.error !== undefined && typeof message.error === 'object' && message.error !== null) {
      pending.reject(new ProtocolError(message.error.code, message.error.message, message.error.data));
    } else if (typeof message.result === 'object' && message.result !== null && !Array.isArray(message.result)) {
      pending.resolve(message.result as Record<string, unknown>);
    } else pending.reject(new InvalidAnswerError('the answer has neither a result object nor an error'));
  }

  #onNotification(method: string, params: Record<string, unknown>): void {
    if (method === 'notifications/progress') {
      const pending = typeof params['progressToken'] === 'number' ? this.#pending.get(params['progressToken']) : undefined;
      if (pending?.onprogress === undefined) return;
      pending.arm();
      const { progressToken: _, ...progress } = params;
      pending.onprogress(progress as { progress: number; total?: number; message?: string });
      return;
    }
    if (method === 'notifications/cancelled') return; // the service gave up on one of its own requests
    this.#events.notification(method, params);
  }

  #onServiceRequest(method: string, id: string | number, params: Record<string, unknown> | undefined): void {
    const callers = [...this.#pending.values()].flatMap((pending) => (pending.downstream === undefined ? [] : [pending.downstream]));
    const answer = this.#options.answer;
    void answerOf(() => (answer === undefined ? this.#events.request(method, params) : answer(method, params, callers))).then((reply) => {
      this.#child?.send(JSON.stringify({ jsonrpc: '2.0', id, ...reply })); // also while draining: a call may wait on it
    });
  }

  #badLine(why: string, line: string): void {
    this.#badLines += 1;
    // The first few, then one in a hundred: a chatty server must not flood the log.
    if (this.#badLines <= 5 || this.#badLines % 100 === 0) {
      this.#options.logger.warn(
        { service: this.#options.service, skipped: this.#badLines, line: line.slice(0, 200) },
        `service "${this.#options.service}" wrote a stdout line that is ${why}; skipped`,
      );
    }
  }
}
