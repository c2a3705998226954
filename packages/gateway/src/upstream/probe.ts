import { type Dispatcher, fetch as undiciFetch } from 'undici';

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
    const response = await get(url, timeoutMs, dispatcher);
    await response.body?.cancel();
    status = response.status;
  } catch {
    return undefined; // no health endpoint to speak of: probe with MCP ping
  }
  if (status === 503) throw new Error('GET /health answered 503');
  return status === 200 ? url : undefined;
}

/** A check over HTTP: resolves on 200, rejects with the status otherwise. */
export async function checkHealthUrl(url: string, timeoutMs: number, dispatcher?: Dispatcher): Promise<void> {
  const response = await get(url, timeoutMs, dispatcher);
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`GET /health answered ${response.status}`);
}

/** A GET that follows no redirect; through `dispatcher` (checked connections) when given. */
function get(url: string, timeoutMs: number, dispatcher: Dispatcher | undefined): Promise<{ status: number; body: { cancel(): Promise<void> } | null }> {
  const init = { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' } as const;
  return dispatcher === undefined ? fetch(url, init) : undiciFetch(url, { ...init, dispatcher });
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
