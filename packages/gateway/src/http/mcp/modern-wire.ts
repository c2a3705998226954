import type { IncomingHttpHeaders } from 'node:http';
import { classifyMessage, type JsonRpcId, type JsonRpcMessage } from '@meshgate/service-kit';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  UnsupportedProtocolVersionError,
} from '@modelcontextprotocol/server';
import { SERVER_INFO } from '../../federation/capabilities.js';
import type { Result } from '../../federation/context.js';

/**
 * The wire rules of the stateless 2026-07-28 revision that the SDK's `createMcpHandler`
 * applies before and after a handler runs, kept here so the gateway serves the revision
 * without an SDK server per request. The era, the `_meta` envelope and the header/body
 * cross-checks are the SDK's own `classifyInboundRequest` (service-kit `classifyMessage`,
 * whose decisions are remembered by what the SDK reads of a request); the rest (the presence and
 * `Mcp-Name` half of the standard headers, the result encoding) follows the installed
 * SDK's source (`validateStandardRequestHeaders`, `rev2026Codec.encodeResult`), which it
 * does not export.
 */

export const MODERN_REVISION = '2026-07-28';
const SERVED_REVISIONS = [MODERN_REVISION];

/** The request methods of the 2026-07-28 revision (the SDK's 2026 codec); anything else is -32601. */
export const MODERN_METHODS = new Set([
  'tools/call',
  'tools/list',
  'prompts/get',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
  'server/discover',
  'subscriptions/listen',
]);

/** Results that carry cache fields (`ttlMs`, `cacheScope`) on this revision. */
/** The `_meta` of a result that has none: the same object for every answer. */
const SERVER_INFO_META = Object.freeze({ [SERVER_INFO_META_KEY]: SERVER_INFO });
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read', 'server/discover']);

const HEADER_MISMATCH = -32020;

/** A refusal before any method runs: the HTTP status and the JSON-RPC error, as the SDK answers it. */
export interface WireRejection {
  status: number;
  error: { code: number; message: string; data?: unknown };
}

export type ModernRoute =
  | {
      kind: 'request';
      id: JsonRpcId;
      method: string;
      params: Record<string, unknown> | undefined;
      meta: Record<string, unknown>;
      /** The retry channel of a multi-round-trip request (lifted out of params, as the SDK does): answers to the gateway's input requests, and its state. */
      retry: { inputResponses: unknown; requestState: unknown };
    }
  | { kind: 'notification'; method: string };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function stripOws(value: string): string {
  return value.replace(/^[\t ]+|[\t ]+$/g, '');
}

function mismatch(header: string, body: string): WireRejection {
  return {
    status: 400,
    error: { code: HEADER_MISMATCH, message: `Bad Request: the request headers and body disagree: ${body}`, data: { mismatch: { header, body } } },
  };
}

/** The body field each method's `Mcp-Name` header mirrors (SEP-2243, SEP-2663). */
const NAME_SOURCE: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

const BASE64_CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An `Mcp-Name` value, its `=?base64?…?=` sentinel decoded; undefined for an invalid sentinel. */
function decodeParamValue(value: string): string | undefined {
  if (!(value.startsWith('=?base64?') && value.endsWith('?='))) return value;
  const b64 = value.slice(9, value.length - 2);
  if (!BASE64_CANONICAL.test(b64)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/** The standard headers a modern request must carry, and `Mcp-Name` agreeing with the body. */
function standardHeaders(headers: IncomingHttpHeaders, method: string, params: unknown, revision: string | undefined): WireRejection | undefined {
  if (header(headers, 'mcp-protocol-version') === undefined) {
    return mismatch(
      '(missing)',
      revision === undefined
        ? 'the body carries a modern per-request envelope but the required MCP-Protocol-Version header is absent'
        : `the body envelope names protocol version ${revision} but the required MCP-Protocol-Version header is absent`,
    );
  }
  if (header(headers, 'mcp-method') === undefined) return mismatch('(missing)', `the body names method ${method} but the required Mcp-Method header is absent`);
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method] : undefined;
  if (field === undefined) return undefined;
  const raw = params !== null && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>)[field] : undefined;
  const bodyValue = typeof raw === 'string' ? raw : undefined;
  const nameHeader = header(headers, 'mcp-name');
  if (nameHeader === undefined) {
    if (bodyValue === undefined) return undefined;
    return mismatch('(missing)', `the body carries params.${field}="${bodyValue}" but the required Mcp-Name header is absent`);
  }
  const normalized = stripOws(nameHeader);
  const decoded = decodeParamValue(normalized);
  if (decoded === undefined) return mismatch(normalized, 'the Mcp-Name header carries an invalid Base64 sentinel value');
  if (bodyValue !== undefined && decoded !== bodyValue) {
    return mismatch(normalized, `the body carries params.${field}="${bodyValue}" but the Mcp-Name header names "${decoded}"`);
  }
  return undefined;
}

/**
 * What a POST of the 2026-07-28 revision asks for, or the refusal the SDK's handler would
 * answer it with (envelope, version, header/body cross-checks: the SDK's classifier; then
 * the standard headers).
 */
export function modernRoute(headers: IncomingHttpHeaders, message: JsonRpcMessage): ModernRoute | WireRejection {
  const outcome = classifyMessage(message, headers);
  if (outcome.kind === 'reject') {
    return {
      status: outcome.httpStatus,
      error: { code: outcome.code, message: outcome.message, ...(outcome.data === undefined ? {} : { data: outcome.data }) },
    };
  }
  if (outcome.kind === 'legacy') {
    // The era stage sent it here; the classifier disagrees (no envelope claim): the SDK's strict modern endpoint's answer.
    return {
      status: 400,
      error: {
        code: ProtocolErrorCode.UnsupportedProtocolVersion,
        message: 'Unsupported protocol version: the request did not name a protocol version',
        data: { supported: SERVED_REVISIONS },
      },
    };
  }
  const revision = outcome.classification.revision;
  if (revision === undefined || !SERVED_REVISIONS.includes(revision)) {
    const error = new UnsupportedProtocolVersionError({ supported: SERVED_REVISIONS, requested: revision ?? 'unknown' });
    return { status: 400, error: { code: error.code, message: error.message, data: error.data } };
  }
  const body = outcome.message as { id?: JsonRpcId; method: string; params?: Record<string, unknown> };
  if (outcome.messageKind === 'notification') return { kind: 'notification', method: body.method };
  const rejected = standardHeaders(headers, body.method, body.params, revision);
  if (rejected !== undefined) return rejected;
  const meta = (body.params?.['_meta'] ?? {}) as Record<string, unknown>;
  return {
    kind: 'request',
    id: body.id as JsonRpcId,
    method: body.method,
    params: body.params === undefined ? undefined : forwardedParams(body.params, meta),
    meta,
    retry: { inputResponses: body.params?.['inputResponses'], requestState: body.params?.['requestState'] },
  };
}

/** The per-request envelope: what the client says of itself to the gateway, not passed on to a service (which has its own session with the gateway). */
const ENVELOPE_KEYS = new Set([PROTOCOL_VERSION_META_KEY, CLIENT_INFO_META_KEY, CLIENT_CAPABILITIES_META_KEY, LOG_LEVEL_META_KEY]);
/** Members of params that are the retry channel (the SDK lifts them out) or the envelope's `_meta`. */
const NOT_FORWARDED = new Set(['inputResponses', 'requestState', '_meta']);

/**
 * The params a service gets: without the retry channel, and with the `_meta` the client
 * meant for the service (a progress token, a trace) but not the envelope. Copied member by
 * member in one pass: rest-destructuring twice and filtering entries was a measured part of
 * what a 2026-07-28 call costs over a sessionless one.
 */
function forwardedParams(params: Record<string, unknown>, meta: Record<string, unknown>): Record<string, unknown> {
  const forwarded: Record<string, unknown> = {};
  for (const key of Object.keys(params)) if (!NOT_FORWARDED.has(key)) forwarded[key] = params[key];
  let kept: Record<string, unknown> | undefined;
  for (const key of Object.keys(meta)) {
    if (ENVELOPE_KEYS.has(key)) continue;
    kept ??= {};
    kept[key] = meta[key];
  }
  if (kept !== undefined) forwarded['_meta'] = kept;
  return forwarded;
}

/** A request of the revision, as the checks let it through. */
export type ModernRequest = Extract<ModernRoute, { kind: 'request' }>;

export function isRejection(route: ModernRoute | WireRejection): route is WireRejection {
  return 'status' in route;
}

/**
 * A method's result as the 2026-07-28 revision puts it on the wire (the SDK's encode
 * seam): `resultType: "complete"`, the cache fields on cacheable results (ttl 0, private:
 * a gateway's lists depend on who asks), fields the revision deleted dropped, and the
 * server's identity in `_meta`. A frozen result (a prebuilt list page) is never changed:
 * the encoding is a new object.
 */
export function encodeResult(method: string, result: Result): Result {
  // Copied member by member: spreading an object fresh from JSON.parse and then adding to
  // the copy cost about three times as much, on every 2026-07-28 answer.
  const encoded: Result = {};
  for (const key of Object.keys(result)) encoded[key] = result[key];
  if (method === 'tools/list' && Array.isArray(result['tools']) && result['tools'].some((tool) => isRecord(tool) && 'execution' in tool)) {
    encoded['tools'] = result['tools'].map((tool) => {
      if (!isRecord(tool) || !('execution' in tool)) return tool;
      const { execution: _deleted, ...rest } = tool;
      return rest;
    });
  }
  const capabilities = result['capabilities'];
  if (isRecord(capabilities) && 'tasks' in capabilities) {
    const { tasks: _deleted, ...rest } = capabilities;
    encoded['capabilities'] = rest;
  }
  if (encoded['resultType'] === undefined) encoded['resultType'] = 'complete';
  if (encoded['resultType'] === 'complete' && CACHEABLE.has(method)) {
    if (!(Number.isSafeInteger(encoded['ttlMs']) && (encoded['ttlMs'] as number) >= 0)) encoded['ttlMs'] = 0;
    if (encoded['cacheScope'] !== 'public' && encoded['cacheScope'] !== 'private') encoded['cacheScope'] = 'private';
  }
  const meta = encoded['_meta'];
  if (meta === undefined) encoded['_meta'] = SERVER_INFO_META;
  else if (isRecord(meta) && meta[SERVER_INFO_META_KEY] === undefined) encoded['_meta'] = { ...meta, [SERVER_INFO_META_KEY]: SERVER_INFO };
  return encoded;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A tool argument its schema asks clients to mirror in an `Mcp-Param-<name>` header (SEP-2243's `x-mcp-header`). */
interface ParamHeader {
  path: string[];
  header: string;
  type: string;
}

/** The `x-mcp-header` declarations of each tool's input schema, found once per schema object (catalog items are kept as they are). */
const paramHeaders = new WeakMap<object, ParamHeader[]>();
const RFC9110_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_TYPES = new Set(['string', 'integer', 'boolean']);

/**
 * The declarations reachable through a chain of `properties`, as the SDK's scan finds them.
 * A schema the SDK would reject (a declaration anywhere else, not a token, on a non-primitive,
 * or twice) has none here: the service serves that tool as it likes, the gateway does not guess.
 */
function declaredParamHeaders(schema: unknown): ParamHeader[] {
  if (!isRecord(schema)) return [];
  const known = paramHeaders.get(schema);
  if (known !== undefined) return known;
  const found: ParamHeader[] = [];
  const seen = new Set<string>();
  let valid = true;
  const visit = (node: unknown, path: string[]): void => {
    if (!valid || !isRecord(node)) return;
    const raw = node['x-mcp-header'];
    if (raw !== undefined) {
      const type = node['type'];
      if (
        path.length === 0 ||
        typeof raw !== 'string' ||
        !RFC9110_TOKEN.test(raw) ||
        typeof type !== 'string' ||
        !HEADER_TYPES.has(type) ||
        seen.has(raw.toLowerCase())
      ) {
        valid = false;
        return;
      }
      seen.add(raw.toLowerCase());
      found.push({ path, header: raw, type });
    }
    if (isRecord(node['properties'])) for (const [key, child] of Object.entries(node['properties'])) visit(child, [...path, key]);
  };
  visit(schema, []);
  const result = valid ? found : [];
  paramHeaders.set(schema, result);
  return result;
}

function primitiveString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))) return String(value);
  return undefined;
}

/**
 * `Mcp-Param-*` headers of a `tools/call` against the tool's `x-mcp-header` declarations
 * (SEP-2243), as the SDK checks them for its own tools: a body value needs its header, and
 * the header (its `=?base64?…?=` sentinel decoded) must say the same; else -32020 with 400.
 */
export function paramHeaderRejection(headers: IncomingHttpHeaders, inputSchema: unknown, args: unknown): WireRejection | undefined {
  for (const declared of declaredParamHeaders(inputSchema)) {
    const name = `Mcp-Param-${declared.header}`;
    let value: unknown = args;
    for (const key of declared.path) value = isRecord(value) ? value[key] : undefined;
    const body = primitiveString(value);
    if (body === undefined) continue;
    const sent = header(headers, name.toLowerCase());
    const where = declared.path.join('.');
    if (sent === undefined) return mismatch(name, `the body carries ${where}=${JSON.stringify(value)} but the ${name} header is absent`);
    const decoded = decodeParamValue(sent);
    if (decoded === undefined) return mismatch(name, `the ${name} header carries an invalid Base64 sentinel value`);
    const numeric = (declared.type === 'integer' || declared.type === 'number') && typeof value === 'number' && /^-?\d+(\.\d+)?$/.test(decoded);
    if (numeric ? Number(decoded) !== value : decoded !== body) {
      return mismatch(name, `the ${name} header decodes to ${JSON.stringify(decoded)} but the body carries ${where}=${JSON.stringify(value)}`);
    }
  }
  return undefined;
}
