/**
 * The gateway's REST admin API (`/register`, `/services`, `/sessions`, `/audit`, `/health`)
 * with the token. Failures become CliErrors with the exit code docs/cli.md promises:
 * cannot reach, 401 and 403 are 3; any other refusal is 1 with the gateway's own message.
 */
import type { Context } from './context.js';
import { CliError, describeNetworkError, EXIT, redact, unreachable } from './errors.js';
import { startProgress } from './progress.js';

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** How long one admin request may take: registration connects to the service first, so it is generous. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A request to the admin API; `authenticated: false` for the open `/health`. Resolves for any status below 400 and for `allow`ed ones. */
export async function api(
  context: Context,
  method: string,
  path: string,
  options: { body?: unknown; authenticated?: boolean; allow?: number[] } = {},
): Promise<ApiAnswer> {
  const { target } = context;
  const url = `${target.url}${path}`;
  let response: Response;
  const progress = startProgress(context.io.stderr, `${method} ${path}`);
  try {
    response = await fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(options.authenticated === false ? {} : { authorization: `Bearer ${target.token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw unreachable(`The gateway at ${target.url} did not answer ${method} ${path} within ${REQUEST_TIMEOUT_MS / 1000} s`);
    }
    throw unreachable(describeNetworkError(error, target.url) ?? `Cannot reach the gateway at ${target.url}: ${redact(String(error), target.token)}`);
  } finally {
    progress.stop();
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the message below (a proxy's error page, say).
  }
  if (response.status < 400 || options.allow?.includes(response.status)) return { status: response.status, body };
  throw refusal(context, response.status, body, `${method} ${path}`);
}

/** The CliError for a refused request, worded from the gateway's `{error, message}` body. */
export function refusal(context: Context, status: number, body: unknown, what: string): CliError {
  const { target } = context;
  const message =
    typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : undefined;
  const said = redact(message ?? (typeof body === 'string' && body.length < 300 ? body : `HTTP ${status}`), target.token);
  if (status === 401) {
    return unreachable(`The gateway refused the token (401) from ${target.tokenSource}: ${said}. Pass the right one with --token or MESHGATE_TOKEN`);
  }
  if (status === 403) return unreachable(`The gateway refused ${what} (403): ${said}. Use a token with the role it needs (docs/cli.md)`);
  return new CliError(EXIT.failed, `${what} failed (${status}): ${said}`);
}

/** The gateway's version of a 404 on a route it does not have (as opposed to an unknown service): `not_found`. */
export function isMissingRoute(answer: ApiAnswer): boolean {
  return answer.status === 404 && (answer.body as { error?: unknown } | undefined)?.error === 'not_found';
}
