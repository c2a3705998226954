import type { ExchangeEvents, ResponseHeaders } from './exchange.js';

/**
 * How a service says it no longer knows the gateway's session. The transport spec says 404,
 * but servers in the field also answer 400 or 410 with a JSON-RPC error or a text naming the
 * session (server-everything: 400 "Bad Request: No valid session ID provided"). Telling these
 * from other refusals matters: a lost session is re-opened at once and the request retried,
 * where any other refusal counts against the service until its breaker opens.
 *
 * Every one of these is a refusal before the request ran (the service did not know the
 * session it came on), so retrying it once on a new session cannot run it twice.
 */

/** The body of a refusal is read only this far: enough for any JSON-RPC error a server sends. */
export const REFUSAL_BODY_BYTES = 4_096;

/** Statuses whose body decides whether the session is gone (404 says so by itself). */
const BODY_DECIDES = new Set([400, 410]);

const NAMES_SESSION = /session/i;
const SAYS_UNKNOWN = /not found|unknown|no valid|invalid|expired|terminated|does not exist|no such|missing/i;

/** Whether a refusal body (JSON-RPC error or plain text) says the session is unknown. */
export function bodySaysSessionLost(body: string): boolean {
  let text = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } } | null;
    const message = parsed?.error?.message;
    if (typeof message === 'string') text = message;
  } catch {
    // not JSON: judge the text itself
  }
  return NAMES_SESSION.test(text) && SAYS_UNKNOWN.test(text);
}

/** What became of an exchange the service answered with a status outside 2xx. */
export type RefusalHandler = (status: number, statusText: string, sessionLost: boolean) => void;

/**
 * The events of one exchange, with refusals taken care of: a 2xx answer goes to `answer`
 * unchanged; any other status is reported once to `refused`, after reading (up to
 * REFUSAL_BODY_BYTES of) a body that may say the session is gone. `hasSession` says whether
 * the request carried a session id at all: without one, nothing can have been lost.
 */
export function withRefusals(hasSession: boolean, answer: ExchangeEvents, refused: RefusalHandler): ExchangeEvents {
  let refusal: { status: number; statusText: string; chunks: Buffer[]; bytes: number } | undefined;
  let reported = false;
  const report = (lost: boolean) => {
    if (reported || refusal === undefined) return;
    reported = true;
    refused(refusal.status, refusal.statusText, lost);
  };
  return {
    head(status: number, statusText: string, headers: ResponseHeaders) {
      if (status >= 200 && status < 300) return answer.head(status, statusText, headers);
      refusal = { status, statusText, chunks: [], bytes: 0 };
      if (!hasSession || !BODY_DECIDES.has(status)) report(hasSession && status === 404);
    },
    data(chunk: Buffer) {
      if (refusal === undefined) return answer.data(chunk);
      if (reported || refusal.bytes >= REFUSAL_BODY_BYTES) return;
      refusal.chunks.push(chunk);
      refusal.bytes += chunk.length;
    },
    end() {
      if (refusal === undefined) return answer.end();
      const body = Buffer.concat(refusal.chunks).subarray(0, REFUSAL_BODY_BYTES).toString('utf8');
      report(bodySaysSessionLost(body));
    },
    error(error: Error) {
      if (refusal === undefined) return answer.error(error);
      report(false);
    },
  };
}
