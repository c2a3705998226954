import { jsonResponse, jsonRpcError } from '@meshgate/service-kit';
import type { GatewayError } from '../errors.js';

/** `jsonrpc` for `/mcp` (a JSON-RPC error object, id null), `rest` for the admin API. */
export type ErrorFormat = 'jsonrpc' | 'rest';

/** The response for a request refused at the perimeter, in the format of the route it hit. */
export function errorReply(error: GatewayError, format: ErrorFormat, headers: Record<string, string> = {}): Response {
  const body = format === 'jsonrpc' ? jsonRpcError(null, error.rpcCode, error.message, error.data) : error.toJSON();
  return jsonResponse(error.status, body, headers);
}
