import type { Span } from '@opentelemetry/api';

/**
 * What is known of one request to `/mcp` as it goes through the pipeline and the method
 * table: one mutable object made when the request arrives, carried explicitly (in
 * `RequestMeta` and `RequestContext`, never in ambient state) and read once when the answer
 * has gone out, for the access log and the metrics. Label values in it come from the
 * catalog or the error catalogue, never from the request (`tool` is a catalog name).
 */
export interface RequestRecord {
  /** The request id (X-Request-Id): the client's, or generated. */
  readonly id: string;
  /** `performance.now()` when the request arrived. */
  readonly started: number;
  identity: string | undefined;
  /** The JSON-RPC method, once the body was read. */
  method: string | undefined;
  /** The tool, prompt or resource it reached, as the catalog names it; `(unknown)` for a name the catalog does not have. */
  tool: string | undefined;
  service: string | undefined;
  /** The JSON-RPC error code of the answer, or the error catalogue's code of a refusal. */
  code: number | string | undefined;
  /** W3C trace context the client sent: header first, else `params._meta`. */
  traceparent: string | undefined;
  tracestate: string | undefined;
  /** The server span of the request, when tracing is on. */
  span: Span | undefined;
  /** Bytes of the request body. */
  bytesIn: number;
}

/** The tool label of a name the catalog does not know: one value, so a client cannot grow the label set. */
export const UNKNOWN_ITEM = '(unknown)';

export function newRecord(id: string): RequestRecord {
  return {
    id,
    started: performance.now(),
    identity: undefined,
    method: undefined,
    tool: undefined,
    service: undefined,
    code: undefined,
    traceparent: undefined,
    tracestate: undefined,
    span: undefined,
    bytesIn: 0,
  };
}
