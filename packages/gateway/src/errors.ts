/**
 * The gateway's error catalogue. Core modules throw `GatewayError` with a string code;
 * the HTTP and JSON-RPC layers map codes to statuses and wire codes here, and only here.
 */

export const GATEWAY_ERRORS = {
  invalid_body: { status: 400, rpc: -32602, summary: 'The request body is missing a field or has a wrong one' },
  invalid_url: { status: 400, rpc: -32602, summary: 'The service URL is not an http(s) URL the gateway may call' },
  unknown_tool: { status: 404, rpc: -32602, summary: 'No federated tool has this name' },
  unknown_prompt: { status: 404, rpc: -32602, summary: 'No federated prompt has this name' },
  unknown_resource: { status: 404, rpc: -32002, summary: 'No federated resource or resource template matches this URI' },
  unknown_service: { status: 404, rpc: -32602, summary: 'No service has this name' },
  service_exists: { status: 409, rpc: -32602, summary: 'A service with this name already exists' },
  forbidden: { status: 403, rpc: -32001, summary: 'The token lacks the role this needs' },
  rate_limited: {
    status: 429,
    rpc: -32014,
    summary: 'The token sent more requests than its per-minute limit allows; `Retry-After` says when to retry',
  },
  service_unavailable: { status: 503, rpc: -32010, summary: 'The owning service is down or still connecting' },
  upstream_unreachable: { status: 502, rpc: -32011, summary: 'The service could not be reached or did not speak MCP' },
  upstream_timeout: { status: 504, rpc: -32012, summary: 'The service did not answer before the deadline' },
  upstream_error: { status: 502, rpc: -32013, summary: 'The service answered with something that is not a valid MCP response' },
  store_error: { status: 500, rpc: -32603, summary: 'The registry store failed' },
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** A local failure with a catalogue code and a message that says what to fix. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }

  get status(): number {
    return GATEWAY_ERRORS[this.code].status;
  }

  get rpcCode(): number {
    return GATEWAY_ERRORS[this.code].rpc;
  }

  /** The body of a REST error answer. */
  toJSON(): { error: GatewayErrorCode; message: string } & Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.data };
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** A JSON-RPC error object for the wire. */
export interface RpcErrorShape {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * Maps anything thrown while serving an MCP request to the JSON-RPC error a client sees:
 * gateway errors by the catalogue, a service's own JSON-RPC error unchanged, and anything
 * else as -32603 without internals (the caller logs the original).
 */
export function toRpcError(error: unknown): RpcErrorShape {
  if (error instanceof GatewayError) {
    return error.data === undefined ? { code: error.rpcCode, message: error.message } : { code: error.rpcCode, message: error.message, data: error.data };
  }
  if (isProtocolErrorLike(error)) {
    return error.data === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, data: error.data };
  }
  return { code: -32603, message: 'Internal error' };
}

/** A JSON-RPC error raised by the SDK (ours or a service's), recognised by shape across SDK bundles. */
export function isProtocolErrorLike(error: unknown): error is Error & { code: number; data?: unknown } {
  return error instanceof Error && error.name === 'ProtocolError' && typeof (error as { code?: unknown }).code === 'number';
}
