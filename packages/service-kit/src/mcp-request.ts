/**
 * What a POST to an MCP endpoint is, from its headers and its parsed message: pure checks
 * shared by the services' `McpEndpoint` and the gateway's `/mcp` pipeline, so both decide alike.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { classifyInboundRequest, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { JsonRpcMessage } from './jsonrpc.js';

export const SESSION_HEADER = 'mcp-session-id';
export const VERSION_HEADER = 'mcp-protocol-version';
export const SUPPORTED_VERSIONS = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);
/** `application/json` or a `+json` type, parameters allowed; not `application/json-seq` or `application/jsonl`. */
export const JSON_CONTENT_TYPE = /^application\/([\w.!#$&^-]+\+)?json\s*(;|$)/i;

/** What the SDK's classifier says of one POST: its era, or the refusal it answers with. */
export type InboundClassification = ReturnType<typeof classifyInboundRequest>;

/** The last classification of each message, with the headers it was made from: one request is classified once (it costs tens of µs). */
const classified = new WeakMap<object, { headers: IncomingHttpHeaders; outcome: InboundClassification }>();

/**
 * The SDK's own classification of a POST (what `createMcpHandler` routes by: the era, the
 * `_meta` envelope, the header/body cross-checks), from headers and the parsed message.
 */
export function classifyMessage(message: JsonRpcMessage, headers: IncomingHttpHeaders): InboundClassification {
  const memo = classified.get(message);
  if (memo !== undefined && memo.headers === headers) return memo.outcome;
  const header = (name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : undefined);
  const outcome = classifyInboundRequest({
    httpMethod: 'POST',
    body: message,
    ...optional('protocolVersionHeader', header(VERSION_HEADER)),
    ...optional('mcpMethodHeader', header('mcp-method')),
    ...optional('mcpNameHeader', header('mcp-name')),
  });
  classified.set(message, { headers, outcome });
  return outcome;
}

/** The SDK's own era decision (what `isLegacyRequest` decides), from headers and the parsed message. */
export function isLegacyMessage(message: JsonRpcMessage, headers: IncomingHttpHeaders): boolean {
  return classifyMessage(message, headers).kind === 'legacy';
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

export function hasMeta(message: unknown): boolean {
  const params = (message as { params?: unknown }).params;
  return typeof params === 'object' && params !== null && '_meta' in params;
}

/** True when the Accept header allows a JSON or an SSE answer (absent or `*\/*` allows both). */
export function acceptsJsonOrStream(accept: string | null): boolean {
  if (accept === null || accept.trim() === '') return true;
  return /(^|,)\s*(\*\/\*|application\/\*|application\/json|text\/\*|text\/event-stream)\s*(;|,|$)/i.test(accept);
}

/** True when the Accept header allows an SSE answer (absent or a wildcard allows it). */
export function acceptsStream(accept: string | null): boolean {
  if (accept === null || accept.trim() === '') return true;
  return /(^|,)\s*(\*\/\*|text\/\*|text\/event-stream)\s*(;|,|$)/i.test(accept);
}

/**
 * The SDK transport insists on an Accept header listing both JSON and SSE (or SSE for GET).
 * Curl-style clients send `*\/*`, which allows both: spell that out for the transport.
 */
export function normalizeAccept(request: Request): Request {
  const wanted = request.method === 'GET' ? 'text/event-stream' : 'application/json, text/event-stream';
  const accept = request.headers.get('accept') ?? '';
  const hasJson = /application\/json/i.test(accept);
  const hasStream = /text\/event-stream/i.test(accept);
  if (request.method === 'GET' ? hasStream : hasJson && hasStream) return request;
  const headers = new Headers(request.headers);
  headers.set('accept', wanted);
  return new Request(request.url, { method: request.method, headers, signal: request.signal });
}
