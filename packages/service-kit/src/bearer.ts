import { createHash, timingSafeEqual } from 'node:crypto';

/** The seed's zero-configuration token. */
export const DEFAULT_BEARER_TOKEN = 'mcp-token-123';

export type BearerResult = { ok: true; token: string } | { ok: false; reason: 'missing' | 'scheme' | 'empty' };

/**
 * Extracts the token of an `Authorization: Bearer <token>` header.
 * The scheme is case-insensitive (RFC 7235); anything else is a failure with a reason.
 */
export function parseBearer(header: string | undefined | null): BearerResult {
  if (header === undefined || header === null || header === '') return { ok: false, reason: 'missing' };
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') return { ok: false, reason: 'scheme' };
  const token = space === -1 ? '' : header.slice(space + 1).trim();
  if (token === '') return { ok: false, reason: 'empty' };
  return { ok: true, token };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Compares a presented token with an expected one in constant time. Both sides are
 * hashed first so that neither the content nor the length of the secret leaks through timing.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** A static token verifier: holds the digest only, compares in constant time. */
export class StaticTokenVerifier {
  readonly #expected: Buffer;
  constructor(token: string) {
    this.#expected = digest(token);
  }
  matches(presented: string): boolean {
    return timingSafeEqual(digest(presented), this.#expected);
  }
}
