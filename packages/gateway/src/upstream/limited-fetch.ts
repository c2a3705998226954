/**
 * A fetch for the upstream transport that refuses oversized answers: a POST response whose
 * declared or streamed size passes `maxBytes` is cut off with an error, so a misbehaving
 * service cannot make the gateway buffer without bound. Long-lived GET notification
 * streams are not capped; they carry many small messages over time.
 */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

export function limitedFetch(maxBytes: number, base: typeof fetch = fetch): typeof fetch {
  return async function fetchWithLimit(input, init) {
    const method = (init?.method ?? 'GET').toUpperCase();
    // Never follow redirects: a service must not bounce the gateway to an address the SSRF guard refused.
    const response = await base(input, { ...init, redirect: 'error' });
    if (method !== 'POST' || response.body === null) return response;
    const declared = Number(response.headers.get('content-length') ?? 'NaN');
    const tooLarge = () => new ResponseTooLargeError(`response exceeds ${maxBytes} bytes`);
    if (declared > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge();
    }
    let seen = 0;
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) controller.error(tooLarge());
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
