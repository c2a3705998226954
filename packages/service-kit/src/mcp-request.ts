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
 * issue lists), yet decides a request only from its `Shape`. So the decision for a shape is
 * remembered (DECISIONS entries) and a request of the same shape gets it without the
 * schemas: a client's envelope is the same on every request it sends. A shape is compared
 * member by member, with nothing serialised or hashed per request. Requests that read more
 * (`initialize`), that a shape cannot stand for, and refusals always go through the SDK.
 * `mcp-request.test.ts` checks the remembered decisions against the SDK's.
 */
export function classifyMessage(message: JsonRpcMessage, headers: IncomingHttpHeaders): InboundClassification {
  if (last.message === message && last.headers === headers && last.outcome !== undefined) return last.outcome;
  const shape = shapeOf(message, headers);
  const known = shape === undefined ? undefined : recall(shape);
  const outcome =
    known === undefined ? sdkClassification(message, headers) : known.kind === 'modern' ? ({ ...known, message } as InboundClassification) : known;
  if (shape !== undefined && known === undefined && outcome.kind !== 'reject') remember(shape, outcome);
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

/**
 * What the SDK's classifier reads of a request parsed from JSON: the version and method
 * headers (`Mcp-Name` is checked later, by the standard-header step), the top-level
 * members (its JSON-RPC schemas are strict), `jsonrpc`, the method, whether `params` is an
 * object, and all of `params._meta` (the envelope; the rest of params is loose to it). An
 * id and a progress token count only by kind (any string, or any safe integer, passes its
 * schema alike).
 */
interface Shape {
  version: string | undefined;
  methodHeader: string | undefined;
  jsonrpc: string;
  method: string;
  idKind: 's' | 'i';
  /** `params` absent, present without `_meta`, or with it. */
  params: 'none' | 'bare' | 'meta';
  /** `params._meta` as parsed (compared member by member, in order); undefined without one. */
  meta: unknown;
}

/** A remembered decision: the shape it was made for, with `_meta` copied, and the SDK's outcome. */
interface Decision extends Shape {
  outcome: InboundClassification;
}

/**
 * The shape of a request, or undefined when it is none that a decision is kept for: a
 * notification or answer, `initialize` (the SDK also reads its `protocolVersion`), another
 * kind of id or token or `jsonrpc`, a repeated header, or params that are not an object.
 */
function shapeOf(message: JsonRpcMessage, headers: IncomingHttpHeaders): Shape | undefined {
  const body = message as unknown as Record<string, unknown>;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return undefined;
  const { jsonrpc, id, method, params } = body;
  if (typeof method !== 'string' || method === 'initialize' || typeof jsonrpc !== 'string') return undefined;
  const idKind = kindOf(id);
  if (idKind === undefined) return undefined;
  const version = headers[VERSION_HEADER];
  const methodHeader = headers['mcp-method'];
  if ((version !== undefined && typeof version !== 'string') || (methodHeader !== undefined && typeof methodHeader !== 'string')) return undefined;
  let shape: Shape['params'] = 'none';
  let meta: unknown;
  if (params !== undefined) {
    if (params === null || typeof params !== 'object' || Array.isArray(params)) return undefined;
    meta = (params as Record<string, unknown>)['_meta'];
    shape = meta === undefined ? 'bare' : 'meta';
    if (isObject(meta) && 'progressToken' in meta && kindOf(meta['progressToken']) === undefined) return undefined;
  }
  return { version, methodHeader, jsonrpc, method, idKind, params: shape, meta };
}

/** How many decisions are remembered: one per kind of client and method is plenty; the oldest goes first. */
const DECISIONS = 512;
/** Decisions by method, the oldest first in each list; a Map, so the method first seen is the first dropped. */
const decisions = new Map<string, Decision[]>();
let remembered = 0;

function recall(shape: Shape): InboundClassification | undefined {
  const kept = decisions.get(shape.method);
  if (kept === undefined) return undefined;
  for (const decision of kept) {
    if (
      decision.version === shape.version &&
      decision.methodHeader === shape.methodHeader &&
      decision.jsonrpc === shape.jsonrpc &&
      decision.idKind === shape.idKind &&
      decision.params === shape.params &&
      sameMeta(decision.meta, shape.meta)
    )
      return decision.outcome;
  }
  return undefined;
}

function remember(shape: Shape, outcome: InboundClassification): void {
  // A client's envelope is small; a decision is not kept for a large one (the table's memory
  // stays bounded, and so does comparing with it: a comparison ends where the kept one does).
  if (shape.params === 'meta' && !withinBudget(shape.meta, { left: MAX_KEYED_META })) return;
  if (remembered >= DECISIONS) {
    const [method, oldest] = decisions.entries().next().value as [string, Decision[]];
    oldest.shift();
    remembered -= 1;
    if (oldest.length === 0) decisions.delete(method);
  }
  // Shared by every request of the shape: nobody may change it (a modern outcome is copied with its own message).
  const { message: _own, ...shared } = outcome as InboundClassification & { message?: unknown; classification?: object };
  if (shared.classification !== undefined) Object.freeze(shared.classification);
  const decision: Decision = { ...shape, meta: copyJson(shape.meta), outcome: Object.freeze(shared) as InboundClassification };
  const kept = decisions.get(shape.method);
  if (kept === undefined) decisions.set(shape.method, [decision]);
  else kept.push(decision);
  remembered += 1;
}

/** The most an `_meta` may hold (characters of its strings and keys, and one per value) for its decision to be kept. */
const MAX_KEYED_META = 4_096;
const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);

function withinBudget(value: unknown, budget: { left: number }): boolean {
  budget.left -= typeof value === 'string' ? value.length + 1 : 1;
  if (budget.left < 0) return false;
  if (Array.isArray(value)) return value.every((item) => withinBudget(item, budget));
  if (isObject(value)) {
    for (const key in value) {
      budget.left -= key.length;
      if (!withinBudget(value[key], budget)) return false;
    }
  }
  return true;
}

/**
 * Whether a request's `_meta` is the remembered one: the same JSON text but for the
 * progress token, which counts by kind. Members are compared in order, as their JSON would
 * be, so a decision is shared only by envelopes that serialise alike.
 */
function sameMeta(kept: unknown, meta: unknown): boolean {
  if (!isObject(kept) || !isObject(meta)) return sameJson(kept, meta);
  return sameMembers(kept, meta, true);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  return isObject(a) && isObject(b) && sameMembers(a, b, false);
}

function sameMembers(a: Record<string, unknown>, b: Record<string, unknown>, envelope: boolean): boolean {
  const keys = Object.keys(a);
  let at = 0;
  for (const key in b) {
    if (keys[at] !== key) return false;
    at += 1;
    const same = envelope && key === 'progressToken' ? kindOf(a[key]) === kindOf(b[key]) : sameJson(a[key], b[key]);
    if (!same) return false;
  }
  return at === keys.length;
}

/** A copy of a parsed JSON value that nothing else holds (the request's own objects stay the request's). */
function copyJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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
