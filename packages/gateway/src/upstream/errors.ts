import { ProtocolError } from '@modelcontextprotocol/client';
import { GatewayError } from '../errors.js';

/**
 * The service answered with an HTTP status other than 200 (the body is never kept). The
 * reason phrase is the service's own text: it goes to the log (`backendDetail`), never
 * into what a client is told.
 */
export class UpstreamHttpError extends Error {
  override readonly name = 'UpstreamHttpError';
  constructor(
    readonly status: number,
    readonly statusText: string,
  ) {
    super(`HTTP ${status}`);
  }
}

/** The service forgot our session (it restarted): for HTTP, a 404 on a request that carried it, or a 400/410 naming the session (lost-session.ts). */
export class SessionLostError extends Error {
  override readonly name = 'SessionLostError';
}

/** The deadline passed without an answer. */
export class UpstreamTimeoutError extends Error {
  override readonly name = 'UpstreamTimeoutError';
}

/**
 * The service's answer is not a valid answer to the request (id, framing, size, version).
 * The message is the gateway's own words; `detail` is text the service controls (an excerpt
 * of the body, a content type), for the log only.
 */
export class InvalidAnswerError extends Error {
  override readonly name = 'InvalidAnswerError';
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** What the service itself said in a failed answer (reason phrase, body excerpt), for the log; never for a client. */
export function backendDetail(error: unknown): string | undefined {
  if (error instanceof UpstreamHttpError) return error.statusText === '' ? undefined : `reason phrase: ${error.statusText.slice(0, 200)}`;
  if (error instanceof InvalidAnswerError) return error.detail?.slice(0, 300);
  return undefined;
}

/** The connection to the service is gone (for stdio, its process exited): what a request in flight on it ends with. */
export class ConnectionClosedError extends Error {
  override readonly name: string = 'ConnectionClosedError';
}

/** What went wrong with an upstream request, decided once so callers only branch on `kind`. */
export type UpstreamFailure =
  | { kind: 'protocol'; error: ProtocolError } // the service answered with a JSON-RPC error: forward it
  | { kind: 'session-lost' } // the service forgot our session (it restarted): reconnect and retry once
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'transport'; reason: string } // refused, reset, closed: the connection is gone
  | { kind: 'bad-response'; reason: string }; // an answer that is not MCP (HTML 500, garbage, too large)

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  // The SSRF guard refused every address the service's name resolved to (security/ssrf.ts).
  'ERR_ADDRESS_REFUSED',
]);

/** Sorts an error a transport's request rejected with into one of the failure kinds. */
export function classifyUpstreamError(error: unknown): UpstreamFailure {
  if (error instanceof ProtocolError) return { kind: 'protocol', error };
  if (error instanceof SessionLostError) return { kind: 'session-lost' };
  if (error instanceof UpstreamTimeoutError) return { kind: 'timeout' };
  if (error instanceof UpstreamHttpError || error instanceof InvalidAnswerError) return { kind: 'bad-response', reason: describeCause(error) };
  if (error instanceof Error && error.name === 'AbortError') return { kind: 'aborted' };
  const reason = describeCause(error);
  if (error instanceof ConnectionClosedError) return { kind: 'transport', reason };
  if (isConnectionFailure(error)) return { kind: 'transport', reason };
  return { kind: 'bad-response', reason };
}

function isConnectionFailure(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code !== undefined && CONNECTION_CODES.has(code)) return true;
    if (current.message === 'fetch failed' || current.message === 'other side closed') return true;
  }
  return false;
}

/** Network failures by code, said without the address Node puts in their messages. */
const NETWORK_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  // undici's, when the gateway itself closes the service's connections (exchange.ts close()).
  UND_ERR_DESTROYED: 'connection closed by the gateway: the service was removed or the gateway is stopping',
  // The HTTP client refused the request itself; its message can quote the header value, which may be a credential.
  UND_ERR_INVALID_ARG: 'the request could not be sent: a header (the service credential?) is not valid',
  ERR_INVALID_CHAR: 'the request could not be sent: a header (the service credential?) holds an invalid character',
  ERR_HTTP_INVALID_HEADER_VALUE: 'the request could not be sent: a header (the service credential?) is not valid',
};

/**
 * A one-line reason for logs and error messages: the deepest cause's message, no stack.
 * It never carries what a client should not see: an HTTP error is described by its
 * status, never its body (an error page can hold the service's stack traces and internal
 * URLs), and a network failure by its code, without the internal address.
 */
export function describeCause(error: unknown): string {
  if (error instanceof UpstreamHttpError) {
    const status = `HTTP ${error.status}`;
    return error.status === 401 || error.status === 403 ? `${status}: the service refused the gateway's credential for it` : status;
  }
  let current: unknown = error;
  let message = 'unknown error';
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    if (current instanceof Error) {
      const code = (current as NodeJS.ErrnoException).code;
      const network = code === undefined ? undefined : NETWORK_FAILURES[code];
      if (network !== undefined) message = `${network} (${code})`;
      else message = code !== undefined && !current.message.includes(code) ? `${current.message} (${code})` : current.message;
      current = current.cause;
    } else {
      message = String(current);
      break;
    }
  }
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** Whether a failure counts against the service for its circuit breaker: its own fault, not the network's or the client's. */
export function isServiceFault(error: unknown): boolean {
  const kind = classifyUpstreamError(error).kind;
  return kind === 'timeout' || kind === 'bad-response';
}

/** The error a client sees for a request the service timed out, broke off or answered with something that is not MCP. */
export function requestFailure(
  service: string,
  method: string,
  failure: Extract<UpstreamFailure, { kind: 'timeout' | 'transport' | 'bad-response' }>,
): GatewayError {
  switch (failure.kind) {
    case 'timeout':
      return new GatewayError('upstream_timeout', `Service "${service}" did not answer ${method} in time`, { service });
    case 'transport':
      return new GatewayError('upstream_unreachable', `Service "${service}" failed during ${method}: ${failure.reason}`, { service });
    case 'bad-response':
      return new GatewayError('upstream_error', `Service "${service}" gave an invalid answer to ${method}: ${failure.reason}`, { service });
  }
}

/** The error a registration gets when the service could not be connected to. */
export function connectFailure(service: string, url: string, reason: string): GatewayError {
  if (/redirect/i.test(reason)) {
    // Redirects are never followed (one could lead past the SSRF guard): register the final URL.
    return new GatewayError(
      'invalid_url',
      `Service "${service}" at ${url} answered with a redirect; the gateway does not follow redirects, so give the URL it redirects to`,
      { service },
    );
  }
  if (reason.endsWith('(ERR_ADDRESS_REFUSED)')) {
    // The name resolved, at connect time, to an address registrations may not point at.
    return new GatewayError('invalid_url', `Service "${service}" at ${url}: ${reason.replace(/ \(ERR_ADDRESS_REFUSED\)$/, '')}`, { service });
  }
  return new GatewayError('upstream_unreachable', `Could not connect to service "${service}" at ${url}: ${reason}`, { service });
}

/** The error a client sees when a service cannot serve its call. */
export function unavailable(service: string, status: string, reason: string | undefined): GatewayError {
  const why = reason === undefined ? '' : `: ${reason}`;
  return new GatewayError('service_unavailable', `Service "${service}" is ${status}${why}`, { service });
}
