import { randomUUID } from 'node:crypto';

/** The header a request id comes in, goes back in, and is sent upstream in. */
export const REQUEST_ID_HEADER = 'x-request-id';
const MAX_LENGTH = 128;
/** Visible ASCII without quotes, backslash or spaces: safe in a header, a log line and a label. */
const SAFE = /^[A-Za-z0-9._~:/+=@-]+$/;

/**
 * The id of one HTTP request: the client's `X-Request-Id` when it is short (at most 128
 * characters) and made of safe characters, else a new UUID. A bad id is replaced, never
 * refused: a proxy that sends odd ids must not break calls.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  if (typeof header === 'string' && header.length > 0 && header.length <= MAX_LENGTH && SAFE.test(header)) return header;
  return randomUUID();
}
