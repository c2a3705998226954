import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptsStream, type JsonRpcId, type JsonRpcMessage } from '@meshgate/service-kit';
import { CLIENT_CAPABILITIES_META_KEY, LOG_LEVEL_META_KEY, type LoggingLevel, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../../auth/tokens.js';
import { Cancellation, type CancelSignal } from '../../federation/cancel.js';
import { gatewayCapabilities, gatewayInstructions } from '../../federation/capabilities.js';
import type { RequestContext, RequestView, Result } from '../../federation/context.js';
import type { MethodTable } from '../../federation/methods.js';
import type { VirtualServer } from '../../federation/virtual-servers.js';
import type { RequestRecord } from '../../observability/record.js';
import type { Registry } from '../../registry/registry.js';
import { passesLevel } from '../../session/log-level.js';
import type { Downstream } from '../../upstream/relay.js';
import { HeldCall, HeldCalls, INPUT_REQUIRED_METHODS } from './input-required.js';
import type { ListenStreams } from './listen.js';
import { ModernTasks, modernCallResult, TASK_METHODS, TASKS_EXTENSION, taskCallParams } from './modern-tasks.js';
import { encodeResult, isRejection, MODERN_METHODS, MODERN_REVISION, type ModernRequest, modernRoute, paramHeaderRejection } from './modern-wire.js';
import { traceparentOf } from './pipeline.js';
import { MAX_STREAM_BACKLOG_BYTES, sseEvent } from './reply.js';
import { writeJson } from './respond.js';

const STREAM_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' } as const;

/** Encoded frozen results (prebuilt list pages) by identity: a listing is encoded once, not per request. */
const encodedPages = new WeakMap<object, Result>();

/**
 * Requests of the stateless 2026-07-28 revision, served on node's own request and response
 * objects through the method table, with nothing built per request: the SDK's classifier
 * checks the `_meta` envelope and the headers (modern-wire.ts), the method runs with a
 * request context like any other path's, and the answer is JSON, or an event stream once
 * the call has something to send before it (progress, log messages) and the client takes
 * one. `server/discover` is answered here; `subscriptions/listen` streams are
 * federation/listen.ts's. The caller's identity comes from the pipeline.
 */
export class ModernEndpoint {
  readonly #held: HeldCalls;
  readonly #tasks: ModernTasks;

  constructor(
    private readonly methods: MethodTable,
    private readonly registry: Registry,
    private readonly listens: ListenStreams,
    private readonly logger: Logger,
  ) {
    this.#held = new HeldCalls(logger);
    this.#tasks = new ModernTasks(methods);
  }

  /** The calls held for their clients' retries (input_required). */
  get held(): HeldCalls {
    return this.#held;
  }

  async serve(
    request: IncomingMessage,
    response: ServerResponse,
    message: JsonRpcMessage,
    identity: GatewayIdentity,
    record?: RequestRecord,
    /** The virtual server whose endpoint the request reached; absent on `/mcp`. */
    server?: VirtualServer,
  ): Promise<void> {
    const route = modernRoute(request.headers, message);
    if (isRejection(route)) {
      this.logger.debug({ reason: route.error.message }, 'stateless request rejected');
      writeJson(response, route.status, { jsonrpc: '2.0', id: idOf(message), error: route.error });
      return;
    }
    // A notification of a stateless request names no exchange of the gateway's: accepted, nothing to do.
    if (route.kind === 'notification') {
      response.writeHead(202).end();
      return;
    }
    const { id, method, params } = route;
    if (method === 'server/discover') {
      writeJson(response, 200, { jsonrpc: '2.0', id, result: encodeResult(method, this.#discover(identity, server)) });
      return;
    }
    if (method === 'subscriptions/listen') {
      await this.listens.open(response, id, params, identity, server);
      return;
    }
    if (!this.#knows(method) && !(TASK_METHODS.has(method) && this.#hasTasks())) {
      const error = new ProtocolError(ProtocolErrorCode.MethodNotFound, 'Method not found');
      writeJson(response, 404, { jsonrpc: '2.0', id, error: { code: error.code, message: error.message } });
      return;
    }
    const view: RequestView = server === undefined ? { catalog: this.registry.catalog } : server.scope(this.registry.catalog);
    let forwarded = route;
    if (method === 'tools/call') {
      const tool = view.catalog.tools.resolve(String(params?.['name'] ?? ''));
      const rejected = tool === undefined ? undefined : paramHeaderRejection(request.headers, tool.item.inputSchema, params?.['arguments']);
      if (rejected !== undefined) {
        writeJson(response, rejected.status, { jsonrpc: '2.0', id, error: rejected.error });
        return;
      }
      forwarded = { ...route, params: taskCallParams(params, route.meta, tool?.item) };
    }
    await this.#call(request, response, forwarded, traceparentOf(request.headers['traceparent'], message), identity, record, view);
  }

  #discover(identity: GatewayIdentity, server: VirtualServer | undefined): Result {
    const capabilities = gatewayCapabilities(this.registry);
    return {
      supportedVersions: [MODERN_REVISION],
      // A service's 2025-11-25 tasks are offered as the revision's tasks extension (modern-tasks.ts).
      capabilities: this.#hasTasks() ? { ...capabilities, extensions: { ...capabilities.extensions, [TASKS_EXTENSION]: {} } } : capabilities,
      instructions: server?.record.description ?? gatewayInstructions(this.registry, identity),
    };
  }

  /** Whether some service runs tool calls as tasks now. */
  #hasTasks(): boolean {
    return gatewayCapabilities(this.registry).tasks !== undefined;
  }

  /** Whether the revision and the gateway (its capabilities now) have the method. */
  #knows(method: string): boolean {
    if (!MODERN_METHODS.has(method)) return false;
    if (method.startsWith('tools/')) return this.methods.knows(method, undefined);
    return this.methods.knows(method, gatewayCapabilities(this.registry));
  }

  async #call(
    request: IncomingMessage,
    response: ServerResponse,
    route: ModernRequest,
    traceparent: string | undefined,
    identity: GatewayIdentity,
    record: RequestRecord | undefined,
    view: RequestView,
  ): Promise<void> {
    const { id, method, params, meta } = route;
    const level = meta[LOG_LEVEL_META_KEY];
    const reply = new ModernReply(
      request,
      response,
      acceptsStream(request.headers.accept ?? null),
      typeof level === 'string' ? (level as LoggingLevel) : undefined,
      () => this.logger.warn({ identity: identity.name }, 'closing a 2026-07-28 response stream whose client does not read it (backlog over the limit)'),
    );
    const token = meta['progressToken'];
    const context = (downstream: Downstream, signal: CancelSignal): RequestContext => ({
      identity,
      requestId: id,
      method,
      catalog: view.catalog,
      ...(view.server === undefined ? {} : { server: view.server }),
      signal,
      downstream,
      progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined,
      traceparent,
      session: undefined,
      record,
    });
    if (INPUT_REQUIRED_METHODS.has(method)) return this.#multiRound(reply, route, identity, context);
    let answer: unknown;
    let status = 200;
    try {
      const result = TASK_METHODS.has(method)
        ? await this.#tasks.run(
            method,
            params,
            meta,
            route.retry.inputResponses,
            (name, down, signal) => ({ ...context(down, signal), method: name }),
            reply,
            reply.signal,
          )
        : await this.methods.run(context(reply, reply.signal), params);
      answer = { jsonrpc: '2.0', id, result: this.#encoded(method, result) };
    } catch (error) {
      // The client went away: nobody is left to answer.
      if (reply.gone) return;
      const wire = this.methods.toWire(error, method);
      answer = { jsonrpc: '2.0', id, error: wire };
      if (wire.code === ProtocolErrorCode.MissingRequiredClientCapability) status = 400;
    }
    reply.end(answer, status);
  }

  /**
   * A request whose result may be `input_required` (tools/call, prompts/get, resources/read):
   * the call runs as a HeldCall, so that a service's sampling, elicitation or roots request
   * during it becomes an `input_required` answer with a sealed `requestState`; the client's
   * retry (the same request with `inputResponses` and that state) answers the waiting
   * service requests and waits for the next step, as many rounds as the service needs.
   */
  async #multiRound(
    reply: ModernReply,
    route: ModernRequest,
    identity: GatewayIdentity,
    context: (downstream: Downstream, signal: CancelSignal) => RequestContext,
  ): Promise<void> {
    const { id, method, params, meta, retry } = route;
    const binding = `${method}\u0000${String(params?.[method === 'resources/read' ? 'uri' : 'name'] ?? '')}\u0000${identity.name}`;
    let call: HeldCall;
    if (retry.requestState !== undefined) {
      try {
        call = await this.held.take(retry.requestState, binding);
      } catch (error) {
        reply.end({ jsonrpc: '2.0', id, error: this.methods.toWire(error, method) });
        return;
      }
      call.answer(retry.inputResponses);
    } else {
      const started = new HeldCall(binding);
      call = started;
      const ctx = context(started, started.abort.signal);
      started.run(async () => this.methods.run(ctx, params));
    }
    call.capabilities = asRecord(meta[CLIENT_CAPABILITIES_META_KEY]);
    call.current = reply;
    // A client gone before any input_required was sent cancels the call; once held, only the deadline ends it.
    const gone = () => {
      if (!call.held) call.abort.abort();
    };
    reply.onGone = gone;
    const step = await call.next();
    reply.onGone = undefined;
    call.current = undefined;
    if (step.kind === 'complete') {
      this.held.release(call);
      reply.end({ jsonrpc: '2.0', id, result: this.#encoded(method, method === 'tools/call' ? modernCallResult(step.result) : step.result) });
      return;
    }
    if (step.kind === 'failed') {
      this.held.release(call);
      if (reply.gone) return;
      const error = this.methods.toWire(step.error, method);
      reply.end({ jsonrpc: '2.0', id, error }, error.code === ProtocolErrorCode.MissingRequiredClientCapability ? 400 : 200);
      return;
    }
    const requestState = await this.held.hold(call, identity);
    if (requestState === undefined) {
      call.drop('the gateway holds too many calls waiting for their clients');
      this.logger.warn({ identity: identity.name }, `refusing to hold another 2026-07-28 call for its client's input: ${this.held.size} are held`);
      reply.end({ jsonrpc: '2.0', id, error: { code: -32603, message: 'The gateway holds too many calls waiting for input; try again later' } });
      return;
    }
    reply.end({ jsonrpc: '2.0', id, result: encodeResult(method, { resultType: 'input_required', inputRequests: step.requests, requestState }) });
  }

  #encoded(method: string, result: Result): Result {
    if (!Object.isFrozen(result)) return encodeResult(method, result);
    let encoded = encodedPages.get(result);
    if (encoded === undefined) {
      encoded = Object.freeze(encodeResult(method, result));
      encodedPages.set(result, encoded);
    }
    return encoded;
  }

  close(): void {
    this.listens.closeAll();
    this.held.close();
    this.#tasks.close();
  }
}

/**
 * The answer to one 2026-07-28 request: plain JSON, unless the call sends something first
 * (progress, a log message) to a client that takes an event stream; then a stream that ends
 * with the answer. A client that does not read its stream does not grow the gateway: past
 * MAX_STREAM_BACKLOG_BYTES the connection is closed (said once, by `onOverflow`).
 */
class ModernReply implements Downstream {
  /** Made only when a signal is asked for: a multi-round call has its own (most 2026 calls). */
  #abort: Cancellation | undefined;
  #gone = false;
  /** Told once if the client goes away before the answer. */
  onGone: (() => void) | undefined;
  #streaming = false;

  constructor(
    request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly streams: boolean,
    /** The request's `_meta` log level: without one, the revision sends the request no log messages. */
    private readonly logLevel: LoggingLevel | undefined,
    private readonly onOverflow: () => void,
  ) {
    // The request closes once its response is sent, or when its client goes away first. Heard on
    // the request: one more 'close' listener on the response cost about 50 µs of CPU per
    // request (docs/performance.md).
    request.on('close', () => {
      if (response.writableFinished) return;
      this.#gone = true;
      this.#abort?.abort();
      this.onGone?.();
    });
  }

  /** Whether the client went away before its answer was written. */
  get gone(): boolean {
    return this.#gone;
  }

  get signal(): CancelSignal {
    if (this.#abort === undefined) {
      this.#abort = new Cancellation();
      if (this.#gone) this.#abort.abort();
    }
    return this.#abort.signal;
  }

  notify(method: string, params: Record<string, unknown> | undefined): Promise<void> {
    if (method === 'notifications/message' && (this.logLevel === undefined || !passesLevel(params?.['level'], this.logLevel))) return Promise.resolve();
    if (this.streams) this.#write({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
    return Promise.resolve();
  }

  request(method: string): Promise<Record<string, unknown>> {
    return Promise.reject(
      new ProtocolError(ProtocolErrorCode.InvalidRequest, `The gateway cannot relay ${method} to a client of the stateless 2026-07-28 revision during a call`),
    );
  }

  end(answer: unknown, status = 200): void {
    const { response } = this;
    if (response.writableEnded || response.destroyed) return;
    if (!this.#streaming) {
      writeJson(response, status, answer);
      return;
    }
    if (this.#write(answer)) response.end();
  }

  #write(message: unknown): boolean {
    const { response } = this;
    if (response.writableEnded || response.destroyed) return false;
    if (!this.#streaming) {
      this.#streaming = true;
      response.writeHead(200, STREAM_HEADERS);
    }
    if (response.writableLength > MAX_STREAM_BACKLOG_BYTES) {
      this.onOverflow();
      response.destroy();
      return false;
    }
    response.write(sseEvent(message));
    return true;
  }
}

function idOf(message: JsonRpcMessage): JsonRpcId | null {
  return 'id' in message && (typeof message.id === 'string' || typeof message.id === 'number') ? message.id : null;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
