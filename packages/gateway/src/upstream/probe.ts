import { type Dispatcher, request } from 'undici';

/**
 * Health probes of one service. A service that answers `GET /health` next to its MCP
 * endpoint (same origin) is probed there; any other is probed with an MCP `ping`.
 */

/**
 * The `/health` URL beside an MCP endpoint, if the service has one. A service whose
 * `/health` answers 503 says it is unavailable: that throws, so the connection attempt
 * fails and the service stays down until it reports healthy again.
 */
export async function discoverHealthUrl(mcpUrl: string, timeoutMs: number, dispatcher?: Dispatcher): Promise<string | undefined> {
  const url = new URL('/health', mcpUrl).toString();
  let status: number;
  try {
    status = (await get(url, timeoutMs, dispatcher)).status;
  } catch {
    return undefined; // no health endpoint to speak of: probe with MCP ping
  }
  if (status === 503) throw new Error('GET /health answered 503');
  return status === 200 ? url : undefined;
}

/** A check over HTTP: resolves on 200, rejects with the status otherwise. */
export async function checkHealthUrl(url: string, timeoutMs: number, dispatcher?: Dispatcher): Promise<void> {
  const { status } = await get(url, timeoutMs, dispatcher);
  if (status !== 200) throw new Error(`GET /health answered ${status}`);
}

/**
 * A GET that follows no redirect, its body discarded; through `dispatcher` (checked
 * connections) when given. undici's `request`, not `fetch`: a probe of each of 100 services
 * every 15 s through `fetch` built a Request, a Response, an AbortSignal and web streams
 * each time, background CPU that every call paid its share of (docs/performance.md, "More
 * backends").
 */
async function get(url: string, timeoutMs: number, dispatcher: Dispatcher | undefined): Promise<{ status: number }> {
  const response = await request(url, {
    method: 'GET',
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...(dispatcher === undefined ? {} : { dispatcher }),
  });
  await response.body.dump();
  return { status: response.statusCode };
}

/** Runs `check` every `intervalMs` (plus up to 20% jitter, so probes of many services spread out). */
export class Prober {
  #timer: NodeJS.Timeout | undefined;

  start(intervalMs: number, check: () => Promise<void>, onResult: (error: unknown) => void): void {
    this.stop();
    if (intervalMs <= 0) return;
    const jitter = Math.floor(Math.random() * intervalMs * 0.2);
    let running = false;
    this.#timer = setInterval(() => {
      if (running) return; // a slow probe is not stacked on by the next one
      running = true;
      check()
        .then(
          () => onResult(undefined),
          (error: unknown) => onResult(error ?? new Error('probe failed')),
        )
        .finally(() => {
          running = false;
        });
    }, intervalMs + jitter);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
