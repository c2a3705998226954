import type { ServerResponse } from 'node:http';
import { frozenListing, serializeJsonChunks } from '@meshgate/service-kit';
import type { Logger } from 'pino';
import { GatewayError } from '../../errors.js';
import { acceptsGzip, gzipListing } from './compress.js';

/**
 * Writes a JSON answer: the string JSON.stringify gives, in one piece with its head; or a
 * prebuilt listing as its pieces (head, memoized bytes, tail), corked into one write
 * without copying them together, gzipped from a deflate made once when the client accepts
 * gzip (compress.ts).
 */
export function writeJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const json = serializeJsonChunks(body);
  if (typeof json === 'string') {
    response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    response.end(json);
    return;
  }
  const listing = frozenListing(body);
  const gzipped = listing !== undefined && acceptsGzip(response.req) ? gzipListing(listing.id, listing.result) : undefined;
  const chunks = gzipped ?? json;
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': length,
    vary: 'accept-encoding',
    ...(gzipped === undefined ? {} : { 'content-encoding': 'gzip' }),
  });
  response.cork();
  for (const chunk of chunks) response.write(chunk);
  response.end();
  response.uncork();
}

/** Answers a refused request with the catalogue's status, its JSON-RPC error (id null unless the message's was read) and headers. */
export function refuse(response: ServerResponse, error: GatewayError): void {
  writeJson(response, error.status, error.toRpc(), error.headers);
}

/**
 * Answers a request that failed: a refusal from the catalogue as it is; anything else is a
 * bug, logged (`what` names the endpoint) and answered "Internal error", or, once the
 * answer has begun, the connection is cut.
 */
export function answerFailure(response: ServerResponse, error: unknown, logger: Logger, what: string): void {
  if (error instanceof GatewayError) {
    refuse(response, error);
    return;
  }
  logger.error({ err: error }, `${what} request failed unexpectedly`);
  if (response.headersSent) response.destroy();
  else refuse(response, new GatewayError('internal', 'Internal error'));
}
