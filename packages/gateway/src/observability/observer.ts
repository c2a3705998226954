import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { GatewayError, toRpcError } from '../errors.js';
import type { Params, RequestContext, Result } from '../federation/context.js';
import type { RegistryStore } from '../registry/types.js';
import type { AccessLogger } from './access-log.js';
import { AuditLog } from './audit.js';
import { GatewayMetrics, type MetricsSources, type Outcome } from './metrics.js';
import { newRecord, type RequestRecord, UNKNOWN_ITEM } from './record.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import type { ObservabilityConfig } from './settings.js';
import { carrierOf, endSpan, type TraceCarrier, Tracing } from './tracing.js';

/** W3C trace context as the spec writes it; anything else is dropped, never passed upstream (it becomes a header there). */
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/** Methods whose every call is audited, and what names their target. */
const AUDITED = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** How one method call ends, told to the observer by the method table. */
export interface MethodProbe {
  done(result: Result): void;
  failed(error: unknown): void;
}

/** What an upstream call needs from the observer: headers and `_meta` to send, and its end. */
export interface UpstreamProbe {
  /** Headers for the upstream request: the request id and, when there is a trace, its context. */
  readonly headers: Record<string, string>;
  /** The trace context to put in `params._meta` (undefined: nothing to add). */
  readonly meta: TraceCarrier | undefined;
  settle<T>(call: Promise<T>): Promise<T>;
}

/**
 * Metrics, traces, the access log and the audit log, behind the three places that call
 * them: the pipeline (`begin`, `identify`, `refused`: one record per HTTP request; it sets the identity), the
 * method table (`method`: one probe per MCP request) and the federation (`upstream`: one
 * probe per forwarded call). Each part is off unless configured, and costs nothing then.
 */
export class Observer {
  readonly metrics: GatewayMetrics | undefined;
  readonly tracing: Tracing | undefined;
  readonly audit: AuditLog | undefined;
  readonly #accessLevel: 'trace' | 'debug' | 'info' | 'warn' | undefined;
  readonly #access: Logger;

  /** `access` is where access-log lines go (bufferedAccessLogger in a process); `logger` without it. */
  constructor(
    config: ObservabilityConfig,
    store: RegistryStore,
    sources: MetricsSources,
    private readonly logger: Logger,
    private readonly access?: AccessLogger,
  ) {
    this.#access = access?.logger ?? logger;
    this.metrics = config.metrics.enabled ? new GatewayMetrics(sources) : undefined;
    this.tracing = config.tracing === undefined ? undefined : new Tracing(config.tracing);
    this.audit = config.audit.enabled ? new AuditLog(store, config.audit, logger) : undefined;
    this.#accessLevel = config.accessLog === 'off' || !this.#access.isLevelEnabled(config.accessLog) ? undefined : config.accessLog;
  }

  start(): void {
    this.audit?.start();
  }

  /** A request arrives at the pipeline: its record, its id in the answer's headers, its access-log line once answered. */
  begin(request: IncomingMessage, response: ServerResponse): RequestRecord {
    const record = newRecord(requestIdOf(request.headers[REQUEST_ID_HEADER]));
    response.setHeader(REQUEST_ID_HEADER, record.id);
    const level = this.#accessLevel;
    if (level !== undefined) {
      const socket = request.socket;
      const written = socket.bytesWritten;
      // `on`, not `once` (a response closes only once): `once`, whose wrapper takes itself off the
      // response's listeners as it fires, cost about 40 µs of CPU per request (docs/performance.md).
      response.on('close', () => {
        this.#access[level](
          {
            requestId: record.id,
            http: request.method,
            path: pathOf(request.url),
            identity: record.identity,
            method: record.method,
            tool: record.tool,
            service: record.service,
            status: response.statusCode,
            code: record.code,
            durationMs: Math.round((performance.now() - record.started) * 1000) / 1000,
            bytesIn: record.bytesIn,
            bytesOut: socket.bytesWritten - written,
          },
          'request',
        );
      });
    }
    return record;
  }

  /** The pipeline read the body: what is asked, how big, and the trace context the client sent. */
  identify(record: RequestRecord, message: unknown, headers: IncomingMessage['headers'], body: string): void {
    const declared = headers['content-length'];
    record.bytesIn = declared === undefined ? Buffer.byteLength(body) : Number(declared);
    const parsed = message as { method?: unknown; params?: { _meta?: { traceparent?: unknown; tracestate?: unknown } } };
    // The client's method name, bounded: an unknown one is logged, never a metric label (the method table refuses it first).
    if (typeof parsed.method === 'string') record.method = parsed.method.slice(0, 128);
    const header = headers['traceparent'];
    const meta = parsed.params?._meta;
    const [traceparent, tracestate] = typeof header === 'string' ? [header, headers['tracestate']] : [meta?.traceparent, meta?.tracestate];
    if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return;
    record.traceparent = traceparent;
    if (typeof tracestate === 'string' && TRACESTATE.test(tracestate)) record.tracestate = tracestate;
  }

  /** The pipeline (or the admin API) refused the request before any method ran; `error` is the refusal or its catalogue code. */
  refused(record: RequestRecord, error: unknown): void {
    const code = typeof error === 'string' ? error : error instanceof GatewayError ? error.code : 'internal';
    record.code = code;
    this.metrics?.refused(code);
  }

  /** One MCP request begins in the method table; undefined when nothing observes it. */
  method(ctx: RequestContext, params: Params): MethodProbe | undefined {
    const { metrics, tracing, audit } = this;
    if (metrics === undefined && tracing === undefined && audit === undefined) return undefined;
    const record = ctx.record ?? newRecord(requestIdOf(undefined));
    if (ctx.record === undefined) ctx.record = record;
    record.method = ctx.method;
    record.identity = ctx.identity.name;
    const method = ctx.method;
    const started = performance.now();
    metrics?.started(method);
    let span: Span | undefined;
    if (tracing !== undefined) {
      const parent: TraceCarrier = {};
      if (record.traceparent !== undefined) parent.traceparent = record.traceparent;
      if (record.tracestate !== undefined) parent.tracestate = record.tracestate;
      span = tracing.server(method, parent, {
        'rpc.system': 'jsonrpc',
        'mcp.method.name': method,
        'meshgate.identity': ctx.identity.name,
        'meshgate.request_id': record.id,
        ...(ctx.session === undefined ? {} : { 'mcp.session.id': ctx.session.id }),
      });
      record.span = span;
    }
    const end = (outcome: Outcome, code: number | undefined, message?: string) => {
      // Resource URIs are no label (templates make them unbounded); tool and prompt names come from the catalog.
      const named = method === 'tools/call' || method === 'prompts/get';
      const tool = named ? (record.tool ?? UNKNOWN_ITEM) : '';
      const service = record.service ?? '';
      if (code !== undefined) record.code = code;
      const now = performance.now();
      metrics?.ended(method, tool, service, outcome, (now - record.started) / 1000);
      if (span !== undefined) {
        if (record.tool !== undefined) span.setAttribute('mcp.tool.name', record.tool);
        if (record.service !== undefined) span.setAttribute('meshgate.service', record.service);
        endSpan(span, outcome, code, message);
      }
      if (audit !== undefined && AUDITED.has(method)) {
        audit.record({
          at: new Date().toISOString(),
          kind: method as 'tools/call',
          identity: ctx.identity.name,
          service: record.service ?? null,
          target: record.tool ?? targetOf(method, params),
          outcome,
          code: code === undefined ? null : String(code),
          durationMs: Math.round((now - started) * 1000) / 1000,
          requestId: record.id,
          args: method === 'resources/read' ? undefined : params?.['arguments'],
        });
      }
    };
    return {
      done: (result) => end(result['isError'] === true ? 'tool_error' : 'ok', undefined),
      failed: (error) => {
        if (ctx.signal?.aborted === true && error instanceof Error && error.name === 'AbortError') return end('cancelled', undefined);
        const rpc = toRpcError(error);
        end('error', rpc.code, rpc.message);
      },
    };
  }

  /**
   * A forward to `service` of the catalog item `item` (its exposed name or URI): labels the
   * request, and gives the headers and `_meta` that carry the request id and trace context.
   */
  upstream(ctx: RequestContext, service: string, item: string, method: string): UpstreamProbe {
    const record = ctx.record;
    if (record !== undefined) {
      record.service = service;
      // A resource URI is the client's (a template's match): bounded for the log and the audit.
      record.tool = item.length > 2048 ? item.slice(0, 2048) : item;
    }
    const headers: Record<string, string> = {};
    if (record !== undefined) headers[REQUEST_ID_HEADER] = record.id;
    let meta: TraceCarrier | undefined;
    let span: Span | undefined;
    if (this.tracing !== undefined && record?.span !== undefined) {
      span = this.tracing.client(`${method} ${service}`, record.span, {
        'rpc.system': 'jsonrpc',
        'mcp.method.name': method,
        'meshgate.service': service,
        'mcp.tool.name': item,
        'meshgate.identity': ctx.identity.name,
        ...(ctx.session === undefined ? {} : { 'mcp.session.id': ctx.session.id }),
      });
      meta = carrierOf(span);
    } else if (record?.traceparent !== undefined) {
      // Not tracing ourselves: the client's trace context passes through unchanged.
      meta = { traceparent: record.traceparent, ...(record.tracestate === undefined ? {} : { tracestate: record.tracestate }) };
    }
    if (meta?.traceparent !== undefined) headers['traceparent'] = meta.traceparent;
    if (meta?.tracestate !== undefined) headers['tracestate'] = meta.tracestate;
    const metrics = this.metrics;
    return {
      headers,
      meta,
      settle: (call) => {
        if (metrics === undefined && span === undefined) return call;
        const started = performance.now();
        const finish = (error: unknown) => {
          metrics?.upstream(method, service, (performance.now() - started) / 1000);
          if (span !== undefined) {
            if (error === undefined) endSpan(span, 'ok', undefined);
            else endSpan(span, 'error', toRpcError(error).code, error instanceof Error ? error.message : undefined);
          }
        };
        return call.then(
          (value) => {
            finish(undefined);
            return value;
          },
          (error: unknown) => {
            finish(error);
            throw error;
          },
        );
      },
    };
  }

  /** Flushes the audit log, the span exporter and the access log; before the store closes. */
  async close(): Promise<void> {
    try {
      await this.audit?.close();
    } finally {
      try {
        await this.tracing?.close();
      } finally {
        this.access?.flush();
      }
    }
  }
}

function targetOf(method: string, params: Params): string | null {
  if (method === 'resources/read') return typeof params?.['uri'] === 'string' ? params['uri'].slice(0, 2048) : null;
  // A name the catalog does not have: the audit keeps what was asked for (bounded), the metrics do not.
  return typeof params?.['name'] === 'string' ? params['name'].slice(0, 256) : null;
}

/** The path of a request URL, without its query (which may carry anything), bounded. */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf('?');
  return (query === -1 ? url : url.slice(0, query)).slice(0, 256);
}
