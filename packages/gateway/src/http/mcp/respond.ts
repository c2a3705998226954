import type { ServerResponse } from 'node:http';
import { serializeJson } from '@meshgate/service-kit';
import type { GatewayError } from '../../errors.js';

/** Writes a JSON answer in one piece with its head (the string JSON.stringify gives, or memoized listing bytes). */
export function writeJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const json = serializeJson(body);
  const length = typeof json === 'string' ? Buffer.byteLength(json) : json.length;
  response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': length });
  response.end(json);
}

/** Answers a refused request with the catalogue's status, its JSON-RPC error (id null unless the message's was read) and headers. */
export function refuse(response: ServerResponse, error: GatewayError): void {
  writeJson(response, error.status, error.toRpc(), error.headers);
}
