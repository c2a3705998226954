/**
 * JSON-RPC 2.0 framing checks for a single message POSTed to an MCP endpoint.
 * Pure functions returning result unions; the HTTP layer turns failures into responses.
 */

export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_METHOD_NOT_FOUND = -32601;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;
/** Used by the SDK and by Meshgate for "session not found" and "unauthorized" on the wire. */
export const JSONRPC_SERVER_ERROR = -32001;

export type JsonRpcId = string | number;

export interface JsonRpcRequestMessage {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}
export interface JsonRpcNotificationMessage {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}
export interface JsonRpcResponseMessage {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}
export type JsonRpcMessage = JsonRpcRequestMessage | JsonRpcNotificationMessage | JsonRpcResponseMessage;

export type FramingResult =
  | { ok: true; kind: 'request'; message: JsonRpcRequestMessage }
  | { ok: true; kind: 'notification'; message: JsonRpcNotificationMessage }
  | { ok: true; kind: 'response'; message: JsonRpcResponseMessage }
  | { ok: false; code: number; message: string; id: JsonRpcId | null };

function isId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * Deepest JSON nesting accepted in a request body. Tool arguments rarely pass a dozen
 * levels; anything near this is an attack on a recursive consumer (JSON.stringify, schema
 * validators), whose stack would overflow somewhere far from here.
 */
export const DEFAULT_MAX_JSON_DEPTH = 128;

/**
 * True when `text` nests arrays or objects deeper than `maxDepth`. One linear pass with no
 * recursion and no allocation, run before JSON.parse: it stops at the first bracket past
 * the limit, so a body of a million `[` costs microseconds, not a parse. Brackets inside
 * strings do not count. It does not validate JSON; JSON.parse does that next.
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x5b || ch === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (ch === 0x5d || ch === 0x7d) {
      depth -= 1;
    }
  }
  return false;
}

/** Parses one JSON-RPC message from a request body and checks its framing. */
export function parseJsonRpcMessage(body: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): FramingResult {
  if (exceedsJsonDepth(body, maxDepth)) {
    return { ok: false, code: JSONRPC_PARSE_ERROR, message: `Parse error: JSON nested deeper than ${maxDepth} levels`, id: null };
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, code: JSONRPC_PARSE_ERROR, message: 'Parse error: the body is not valid JSON', id: null };
  }
  return checkJsonRpcMessage(value);
}

/** Checks the framing of an already parsed value. */
export function checkJsonRpcMessage(value: unknown): FramingResult {
  if (Array.isArray(value)) {
    return {
      ok: false,
      code: JSONRPC_INVALID_REQUEST,
      message: 'Invalid Request: JSON-RPC batches are not supported (removed in MCP 2025-06-18); send one message per POST',
      id: null,
    };
  }
  if (typeof value !== 'object' || value === null) {
    return { ok: false, code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: the body must be a JSON-RPC 2.0 object', id: null };
  }
  const record = value as Record<string, unknown>;
  const id = isId(record['id']) ? record['id'] : null;
  if (record['jsonrpc'] !== '2.0') {
    return { ok: false, code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "jsonrpc" must be "2.0"', id };
  }
  if ('id' in record && record['id'] !== null && !isId(record['id'])) {
    return { ok: false, code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "id" must be a string or a number', id: null };
  }
  const params = record['params'];
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    return { ok: false, code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "params" must be an object', id };
  }
  if ('method' in record) {
    if (typeof record['method'] !== 'string' || record['method'] === '') {
      return { ok: false, code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "method" must be a non-empty string', id };
    }
    if (!('id' in record)) return { ok: true, kind: 'notification', message: record as unknown as JsonRpcNotificationMessage };
    if (record['id'] === null) {
      return { ok: false, code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: a request "id" must not be null', id: null };
    }
    return { ok: true, kind: 'request', message: record as unknown as JsonRpcRequestMessage };
  }
  if (('result' in record || 'error' in record) && isId(record['id'])) {
    return { ok: true, kind: 'response', message: record as unknown as JsonRpcResponseMessage };
  }
  return { ok: false, code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "method" is missing', id };
}

/** Builds a JSON-RPC error response object. */
export function jsonRpcError(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcResponseMessage {
  return data === undefined ? { jsonrpc: '2.0', id, error: { code, message } } : { jsonrpc: '2.0', id, error: { code, message, data } };
}
