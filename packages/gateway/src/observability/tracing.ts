import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** W3C trace context as carried on the wire: headers upstream, `params._meta` keys. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const propagator = new W3CTraceContextPropagator();
const getter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => (key === 'traceparent' || key === 'tracestate' ? carrier[key] : undefined),
};
const setter: TextMapSetter<TraceCarrier> = {
  set: (carrier, key, value) => {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

/**
 * OpenTelemetry traces of the gateway: a tracer provider of its own (never registered
 * globally, so no context manager and no AsyncLocalStorage), OTLP/HTTP export in batches.
 * Parents are passed explicitly: the client's trace context for the server span, the
 * server span for each client span.
 */
export class Tracing {
  readonly #provider: BasicTracerProvider;
  readonly #tracer;

  constructor(options: { url: string; serviceName: string }) {
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.url }))],
    });
    this.#tracer = this.#provider.getTracer('meshgate');
  }

  /** The server span of one MCP request, child of the trace context the client sent (if valid). */
  server(method: string, parent: TraceCarrier, attributes: Attributes): Span {
    const context = parent.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, parent, getter);
    return this.#tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, context);
  }

  /** A client span for one upstream call, child of `parent`. */
  client(name: string, parent: Span, attributes: Attributes): Span {
    return this.#tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  }

  /** Ends the span export with a batch flush on close. */
  async close(): Promise<void> {
    await this.#provider.shutdown().catch(() => undefined);
  }
}

/** The trace context that continues the trace in `span`, to send upstream. */
export function carrierOf(span: Span): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT as Context, span), carrier, setter);
  return carrier;
}

/** Marks a span with how its request ended, and ends it. */
export function endSpan(span: Span, outcome: string, code: number | string | undefined, message?: string): void {
  span.setAttribute('mcp.outcome', outcome);
  if (code !== undefined) span.setAttribute('rpc.jsonrpc.error_code', code);
  if (outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR, ...(message === undefined ? {} : { message }) });
  span.end();
}
