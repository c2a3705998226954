/**
 * The stages of a request to `/mcp`, in order: perimeter, authenticate, authorize,
 * framing, protocol era, session. Each is a pure check of what it is given, returning a
 * result or the catalogue error it is refused with; pipeline.ts runs them and renders
 * refusals in one place.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  acceptsJsonOrStream,
  acceptsStream,
  BEARER_REFUSALS,
  hasMeta,
  isLegacyMessage,
  JSON_CONTENT_TYPE,
  type JsonRpcMessage,
  parseBearer,
  parseJsonRpcMessage,
  SESSION_HEADER,
  SUPPORTED_VERSIONS,
  VERSION_HEADER,
} from '@meshgate/service-kit';
import type { GatewayAuth } from '../../auth/authenticator.js';
import { authorize, bearerChallenge, metadataUrlFor, resourceUrlFor } from '../../auth/metadata.js';
import type { GatewayIdentity } from '../../auth/tokens.js';
import { GatewayError } from '../../errors.js';
import { corsPreflightHeaders, corsResponseHeaders, hasRepeatedHost, isPreflight, type Perimeter } from '../../security/index.js';

export type HttpMethod = 'POST' | 'GET' | 'DELETE';

export type Stage<T> = { ok: true; value: T } | { ok: false; error: GatewayError };

const pass = <T>(value: T): Stage<T> => ({ ok: true, value });
const fail = (error: GatewayError): Stage<never> => ({ ok: false, error });
// The common outcomes, allocated once: these stages run on every request.
const PASSED: Stage<true> = pass(true);
const POST: Stage<HttpMethod> = pass('POST');
const LEGACY: Stage<'legacy' | 'modern'> = pass('legacy');
const MODERN: Stage<'legacy' | 'modern'> = pass('modern');
const NO_SESSION: Stage<string | undefined> = pass(undefined);

const REPEATED_HOST = new GatewayError('duplicate_host', 'Bad Request: the request has more than one Host header; send one');

/** A single-valued header: node joins most repeated headers, and a repeated one of these is refused. */
function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** 1. One Host (400), then Origin and Host (DNS rebinding), before anything else so a rebinding page learns nothing. */
export function perimeterStage(perimeter: Perimeter, headers: IncomingHttpHeaders, rawHeaders: readonly string[]): Stage<true> {
  if (hasRepeatedHost(rawHeaders)) return fail(REPEATED_HOST);
  const refusal = perimeter.refusal(single(headers, 'host'), single(headers, 'origin'));
  return refusal === undefined ? PASSED : fail(new GatewayError('forbidden', refusal));
}

/** What CORS adds for an allowed page: headers for every answer, or the whole answer to a preflight. */
export type Cors = { preflight: false; headers: Record<string, string> } | { preflight: true; headers: Record<string, string> };

/**
 * 1b. CORS, once the perimeter let the request through: nothing for a request without
 * Origin (the common case, and every non-browser client); for an allowed page the headers
 * of every answer, 401 and 403 included, or the 204 answer to its preflight, which comes
 * before authentication because browsers send preflights without credentials.
 */
export function corsStage(perimeter: Perimeter, method: string | undefined, headers: IncomingHttpHeaders): Cors | undefined {
  const origin = perimeter.corsOrigin(single(headers, 'origin'));
  if (origin === undefined) return undefined;
  if (isPreflight(method, single(headers, 'access-control-request-method'))) {
    return { preflight: true, headers: corsPreflightHeaders(origin, 'GET, POST, DELETE', single(headers, 'access-control-request-headers')) };
  }
  return { preflight: false, headers: corsResponseHeaders(origin) };
}

/** Where the protected resource metadata of the endpoint a request reached lives (named in every challenge). */
export function metadataUrlOf(auth: GatewayAuth, host: string | undefined, endpoint = '/mcp'): string {
  return metadataUrlFor(resourceUrlFor(`http://${host ?? 'localhost'}/mcp`, auth.resource, endpoint));
}

/**
 * 2. The Bearer token, verified once per request: static tokens answer at once, a JWT may
 * need the JWKS (a promise). A refusal carries the challenge naming the metadata.
 */
export function authenticateStage(
  auth: GatewayAuth,
  headers: IncomingHttpHeaders,
  endpoint = '/mcp',
): Stage<GatewayIdentity> | Promise<Stage<GatewayIdentity>> {
  const bearer = parseBearer(single(headers, 'authorization'));
  if (!bearer.ok) return fail(unauthorized(auth, headers, bearer.reason, endpoint));
  const found = auth.authenticate(bearer.token);
  const settle = (identity: GatewayIdentity | undefined) => (identity === undefined ? fail(unauthorized(auth, headers, 'invalid', endpoint)) : pass(identity));
  return found instanceof Promise ? found.then(settle) : settle(found);
}

function unauthorized(auth: GatewayAuth, headers: IncomingHttpHeaders, reason: keyof typeof BEARER_REFUSALS, endpoint: string): GatewayError {
  const challenge = bearerChallenge({
    realm: 'meshgate',
    resource_metadata: metadataUrlOf(auth, single(headers, 'host'), endpoint),
    error: reason === 'missing' ? undefined : 'invalid_token',
  });
  return new GatewayError('unauthorized', `Unauthorized: ${BEARER_REFUSALS[reason]}`, undefined, { 'www-authenticate': challenge });
}

/** 3. `/mcp` needs the client role: an admin-only token manages services but calls no tools. */
export function authorizeStage(auth: GatewayAuth, identity: GatewayIdentity, headers: IncomingHttpHeaders, endpoint = '/mcp'): Stage<true> {
  const verdict = authorize(identity, 'client', auth.resource.scopes);
  if (verdict.ok) return PASSED;
  const challenge = bearerChallenge({
    realm: 'meshgate',
    error: 'insufficient_scope',
    scope: verdict.scope,
    resource_metadata: metadataUrlOf(auth, single(headers, 'host'), endpoint),
  });
  return fail(new GatewayError('forbidden', verdict.message, undefined, { 'www-authenticate': challenge }));
}

/** 4a. The HTTP method and, for a POST, the headers that frame its body, checked before it is read. */
export function methodStage(method: string | undefined, headers: IncomingHttpHeaders): Stage<HttpMethod> {
  if (method === 'GET') {
    return acceptsStream(single(headers, 'accept') ?? null)
      ? pass('GET')
      : fail(new GatewayError('not_acceptable', 'Not Acceptable: a GET stream needs Accept to allow text/event-stream'));
  }
  if (method === 'DELETE') return pass('DELETE');
  if (method !== 'POST') {
    return fail(
      new GatewayError('method_not_allowed', `Method ${method ?? '?'} is not allowed on the MCP endpoint`, undefined, { allow: 'GET, POST, DELETE' }),
    );
  }
  const contentType = single(headers, 'content-type') ?? '';
  if (!JSON_CONTENT_TYPE.test(contentType.trim())) {
    return fail(new GatewayError('unsupported_media_type', 'Unsupported Media Type: Content-Type must be application/json'));
  }
  if (!acceptsJsonOrStream(single(headers, 'accept') ?? null)) {
    return fail(new GatewayError('not_acceptable', 'Not Acceptable: Accept must allow application/json or text/event-stream'));
  }
  return POST;
}

/** 4b. One JSON-RPC 2.0 message, within the nesting limit. */
export function framingStage(body: string): Stage<JsonRpcMessage> {
  const framing = parseJsonRpcMessage(body);
  if (framing.ok) return pass(framing.message);
  const code = framing.code === -32700 ? 'parse_error' : 'invalid_request';
  return fail(new GatewayError(code, framing.message, undefined, undefined, framing.id));
}

/**
 * 5. The protocol era. Only a message with an unknown version header or a `_meta` can be
 * of the stateless 2026 revision; the SDK's own classifier decides those (the common
 * request skips it). A version header the gateway does not speak is refused: 400 on a
 * POST, and 405 on GET and DELETE, which the stateless revision does not use (it has no
 * session to stream from or end).
 */
export function eraStage(method: HttpMethod, headers: IncomingHttpHeaders, message: JsonRpcMessage | undefined): Stage<'legacy' | 'modern'> {
  const version = single(headers, VERSION_HEADER);
  if (version === undefined || SUPPORTED_VERSIONS.has(version)) {
    return message !== undefined && hasMeta(message) && !isLegacyMessage(message, headers) ? MODERN : LEGACY;
  }
  if (method !== 'POST') {
    return fail(new GatewayError('method_not_allowed', `${method} is not used by protocol revision ${version}`, undefined, { allow: 'POST' }));
  }
  if (message !== undefined && !isLegacyMessage(message, headers)) return MODERN;
  return fail(new GatewayError('unsupported_version', `Unsupported MCP-Protocol-Version "${version}"; supported: ${[...SUPPORTED_VERSIONS].join(', ')}`));
}

/** 6. The session a request names, if any (a repeated header is refused: which one would it mean?). */
export function sessionIdStage(headers: IncomingHttpHeaders): Stage<string | undefined> {
  const id = headers[SESSION_HEADER];
  if (Array.isArray(id)) return fail(new GatewayError('invalid_request', 'Bad Request: send one Mcp-Session-Id header'));
  return id === undefined ? NO_SESSION : pass(id);
}
