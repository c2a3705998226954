import type { FetchImplementation } from 'jose';

/** The largest JWKS the gateway reads: a set of public keys is a few KiB; anything near this is not one. */
export const MAX_JWKS_BYTES = 256 * 1024;
/** How long fetching the JWKS may take, body included (jose's signal covers the whole exchange). */
export const JWKS_TIMEOUT_MS = 5_000;

/**
 * jose's JWKS fetch with a size bound: a declared length over `maxBytes` is refused
 * before the body is read, and an undeclared one is cut off there, so an authorization
 * server (or whoever answers at its URL) cannot make the gateway buffer without bound.
 * The timeout is jose's: its signal is passed through and aborts the body read too.
 */
export function boundedJwksFetch(maxBytes = MAX_JWKS_BYTES): FetchImplementation {
  return async function fetchJwks(url, options) {
    const response = await fetch(url, options);
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw new Error(`the JWKS is ${declared} bytes, more than the ${maxBytes} the gateway reads`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body !== null) {
      for await (const chunk of response.body) {
        size += chunk.byteLength;
        if (size > maxBytes) {
          await response.body.cancel().catch(() => undefined);
          throw new Error(`the JWKS is larger than the ${maxBytes} bytes the gateway reads`);
        }
        chunks.push(chunk);
      }
    }
    return new Response(Buffer.concat(chunks), { status: response.status, headers: response.headers });
  };
}
