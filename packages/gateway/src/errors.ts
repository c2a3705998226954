import { type JsonRpcId, type JsonRpcResponseMessage, jsonRpcError } from '@meshgate/service-kit';

/**
 * The gateway's error catalogue. Core modules throw `GatewayError` with a string code;
 * the HTTP and JSON-RPC layers map codes to statuses and wire codes here, and only here.
 */

export const GATEWAY_ERRORS = {
  // What a request to /mcp can be refused for before any MCP method runs (the pipeline's stages).
  parse_error: { status: 400, rpc: -32700, summary: 'The body is not JSON, or nests deeper than the gateway reads' },
  invalid_request: { status: 400, rpc: -32600, summary: 'The body is not one JSON-RPC 2.0 message (batches are refused), or it does not fit the session' },
  duplicate_host: { status: 400, rpc: -32600, summary: 'The request has more than one Host header (RFC 9112 §3.2: a server must refuse it)' },
  unsupported_version: { status: 400, rpc: -32600, summary: 'The MCP-Protocol-Version header names a revision the gateway does not speak' },
  session_required: { status: 400, rpc: -32600, summary: 'The request needs an Mcp-Session-Id header: send initialize first' },
  unknown_event_id: {
    status: 400,
    rpc: -32600,
    summary: 'Last-Event-ID names no stream of this session, or what came after it is no longer kept: open a new GET stream without it',
  },
  unauthorized: { status: 401, rpc: -32001, summary: 'No valid Bearer token; the WWW-Authenticate header names the protected resource metadata' },
  unknown_session: { status: 404, rpc: -32001, summary: 'The session expired, was deleted, or belongs to another token: initialize a new one' },
  method_not_allowed: { status: 405, rpc: -32600, summary: 'The MCP endpoint takes POST, GET (a session stream) and DELETE (end a session)' },
  not_acceptable: { status: 406, rpc: -32600, summary: 'The Accept header allows neither application/json nor text/event-stream' },
  stream_conflict: { status: 409, rpc: -32600, summary: 'The session already has its GET stream open' },
  payload_too_large: { status: 413, rpc: -32600, summary: 'The request body is larger than MESHGATE_MAX_BODY_BYTES' },
  unsupported_media_type: { status: 415, rpc: -32600, summary: 'Content-Type must be application/json' },
  unknown_virtual_server: { status: 404, rpc: -32001, summary: 'No virtual server has this name (`/servers/{name}/mcp`, `/virtual-servers/{name}`)' },
  too_many_sessions: { status: 503, rpc: -32001, summary: "The session table (MESHGATE_MAX_SESSIONS) or this token's share of it is full" },
  relay_unreachable: {
    status: 503,
    rpc: -32603,
    summary: 'An answer to a relayed request (sampling, elicitation, roots) could not be passed to the gateway replica waiting for it',
  },
  shutting_down: { status: 503, rpc: -32001, summary: 'The gateway is stopping' },
  dashboard_not_built: { status: 503, rpc: -32603, summary: 'The dashboard at /admin has no bundle: run `npm run build` (it builds packages/dashboard/dist)' },
  internal: { status: 500, rpc: -32603, summary: 'An unexpected failure inside the gateway (logged with its cause)' },
  // Failures of an MCP method or an admin call.
  invalid_body: { status: 400, rpc: -32602, summary: 'The request body is missing a field or has a wrong one' },
  invalid_url: { status: 400, rpc: -32602, summary: 'The service URL is not an http(s) URL the gateway may call' },
  unknown_tool: { status: 404, rpc: -32602, summary: 'No federated tool has this name' },
  unknown_prompt: { status: 404, rpc: -32602, summary: 'No federated prompt has this name' },
  unknown_task: { status: 404, rpc: -32602, summary: 'No task of this caller has this id (tasks are bound to the client that created them)' },
  unknown_resource: { status: 404, rpc: -32002, summary: 'No federated resource or resource template matches this URI' },
  unknown_service: { status: 404, rpc: -32602, summary: 'No service has this name' },
  service_exists: { status: 409, rpc: -32602, summary: 'A service with this name already exists' },
  nothing_to_approve: {
    status: 409,
    rpc: -32602,
    summary: 'The tool has no held change to approve, or it changed again since the digest given (look at /services again)',
  },
  virtual_server_exists: { status: 409, rpc: -32602, summary: 'A virtual server with this name already exists' },
  too_many_services: { status: 409, rpc: -32602, summary: 'The gateway already has MESHGATE_MAX_SERVICES registered services' },
  invalid_credential: {
    status: 400,
    rpc: -32602,
    summary: 'The credential is not one the gateway may send: a reserved header, an invalid value, a variable it may not read, or a secret it cannot store',
  },
  federation_loop: { status: 400, rpc: -32602, summary: 'The URL leads back to this gateway (directly or through another gateway)' },
  forbidden: { status: 403, rpc: -32001, summary: 'The token lacks the role this needs, or the Origin or Host is not allowed' },
  stdio_registration_disabled: {
    status: 403,
    rpc: -32001,
    summary: 'A registration named a command, which runs a program on the gateway host: set MESHGATE_ALLOW_STDIO_REGISTRATION=true (admin tokens only)',
  },
  rate_limited: {
    status: 429,
    rpc: -32014,
    summary: 'The token sent more requests than its per-minute limit allows; `Retry-After` says when to retry',
  },
  too_many_auth_failures: {
    status: 429,
    rpc: -32001,
    summary: 'This address failed to authenticate more often than MESHGATE_AUTH_FAILURES_PER_MINUTE allows; `Retry-After` says when to retry',
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
    /** Response headers the refusal needs (Retry-After, WWW-Authenticate, Allow). */
    readonly headers?: Record<string, string>,
    /** The id of the JSON-RPC message refused, when it could be read. */
    readonly rpcId: JsonRpcId | null = null,
  ) {
    super(message);
  }

  get status(): number {
    return GATEWAY_ERRORS[this.code].status;
  }

  get rpcCode(): number {
    return GATEWAY_ERRORS[this.code].rpc;
  }

  /** The body of a JSON-RPC error answer to a request refused before it was read (`id` null) or by the method it named. */
  toRpc(id: JsonRpcId | null = this.rpcId): JsonRpcResponseMessage {
    return jsonRpcError(id, this.rpcCode, this.message, this.data);
  }

  /** The body of a REST error answer. */
  toJSON(): { error: GatewayErrorCode; message: string } & Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.data };
  }
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
