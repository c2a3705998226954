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

/**
 * The last classification made, with the message and headers it was made from: the era stage
 * and the endpoint then ask about the same request, one after the other. (One slot, not a
 * WeakMap over every message: weak tables cost the garbage collector on every request.)
 */
const last: { message: JsonRpcMessage | undefined; headers: IncomingHttpHeaders | undefined; outcome: InboundClassification | undefined } = {
  message: undefined,
  headers: undefined,
  outcome: undefined,
};

/**
 * The SDK's own classification of a POST (what `createMcpHandler` routes by: the era, the
 * `_meta` envelope, the header/body cross-checks), from headers and the parsed message.
 *
 * The SDK runs several zod schemas per request (tens of µs, two of them failing and building
 * issue lists), yet decides a request only from what `decisionKey` keeps. So the decision
 * for a key is remembered (DECISIONS entries) and a request with the same key gets it
 * without the schemas: a client's envelope is the same on every request it sends. Requests
 * that read more (`initialize`), that the key cannot stand for, and refusals always go
 * through the SDK. `mcp-request.test.ts` checks the remembered decisions against the SDK's.
 */
export function classifyMessage(message: JsonRpcMessage, headers: IncomingHttpHeaders): InboundClassification {
  if (last.message === message && last.headers === headers && last.outcome !== undefined) return last.outcome;
  const key = decisionKey(message, headers);
  const known = key === undefined ? undefined : decisions.get(key);
  const outcome =
    known === undefined ? sdkClassification(message, headers) : known.kind === 'modern' ? ({ ...known, message } as InboundClassification) : known;
  if (key !== undefined && known === undefined && outcome.kind !== 'reject') remember(key, outcome);
  last.message = message;
  last.headers = headers;
  last.outcome = outcome;
  return outcome;
}

function sdkClassification(message: JsonRpcMessage, headers: IncomingHttpHeaders): InboundClassification {
  const header = (name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : undefined);
  return classifyInboundRequest({
    httpMethod: 'POST',
    body: message,
    ...optional('protocolVersionHeader', header(VERSION_HEADER)),
    ...optional('mcpMethodHeader', header('mcp-method')),
    ...optional('mcpNameHeader', header('mcp-name')),
  });
}

/** How many decisions are remembered: one per kind of client and method is plenty; the oldest goes first. */
const DECISIONS = 512;
const decisions = new Map<string, InboundClassification>();

function remember(key: string, outcome: InboundClassification): void {
  if (decisions.size >= DECISIONS) decisions.delete(decisions.keys().next().value as string);
  // Shared by every request of the key: nobody may change it (a modern outcome is copied with its own message).
  const { message: _own, ...shared } = outcome as InboundClassification & { message?: unknown; classification?: object };
  if (shared.classification !== undefined) Object.freeze(shared.classification);
  decisions.set(key, Object.freeze(shared) as InboundClassification);
}

/** The longest `_meta` (as JSON) a decision is remembered for. */
const MAX_KEYED_META = 4_096;
const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);

/**
 * What the SDK's classifier reads of a request parsed from JSON: the version and method
 * headers (`Mcp-Name` is checked later, by the standard-header step), the
 * top-level members (its JSON-RPC schemas are strict), `jsonrpc`, the method, whether
 * `params` is an object, and all of `params._meta` (the envelope; the rest of params is
 * loose to it). An id and a progress token count only by kind (any string, or any safe
 * integer, passes its schema alike). Undefined when the request is none of that: a
 * notification or answer, `initialize` (the SDK also reads its `protocolVersion`), another
 * kind of id or token, or params that are not an object.
 */
function decisionKey(message: JsonRpcMessage, headers: IncomingHttpHeaders): string | undefined {
  const body = message as unknown as Record<string, unknown>;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return undefined;
  const { jsonrpc, id, method, params } = body;
  if (typeof method !== 'string' || method === 'initialize') return undefined;
  const idKind = kindOf(id);
  if (idKind === undefined) return undefined;
  let meta = '-';
  if (params !== undefined) {
    if (params === null || typeof params !== 'object' || Array.isArray(params)) return undefined;
    const raw = (params as Record<string, unknown>)['_meta'];
    if (raw !== undefined) {
      if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'progressToken' in raw) {
        const token = kindOf((raw as Record<string, unknown>)['progressToken']);
        if (token === undefined) return undefined;
        meta = `${token}${JSON.stringify({ ...raw, progressToken: 0 })}`;
      } else meta = `.${JSON.stringify(raw)}`;
    }
  } else meta = 'none';
  const header = (name: string) => {
    const value = headers[name];
    return value === undefined ? '' : JSON.stringify(value);
  };
  // A client's envelope is small; a key is not kept for a large one (the table's memory stays bounded).
  if (meta.length > MAX_KEYED_META) return undefined;
  // Joined by NUL, which no part holds raw (header values are JSON-quoted, and so are the method and jsonrpc), the envelope last.
  return `${header(VERSION_HEADER)}\u0000${header('mcp-method')}\u0000${JSON.stringify(jsonrpc) ?? ''}\u0000${idKind}${JSON.stringify(method)}\u0000${meta}`;
}

/** `s` for any string, `i` for any safe integer: the kinds of JSON-RPC ids and progress tokens the SDK takes alike. */
function kindOf(value: unknown): 's' | 'i' | undefined {
  if (typeof value === 'string') return 's';
  return Number.isSafeInteger(value) ? 'i' : undefined;
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
