import pRetry from 'p-retry';
import { describeCause } from './errors.js';

export interface RetryOptions {
  minMs: number;
  maxMs: number;
  /** Ends the retries (the promise then resolves). */
  signal: AbortSignal;
  onFailure: (reason: string) => void;
}

/**
 * Runs `attempt` until it succeeds or `signal` aborts, with capped, jittered exponential
 * backoff in between (p-retry). Resolves either way.
 */
export function retryForever(attempt: () => Promise<void>, options: RetryOptions): Promise<void> {
  // p-retry gives up on a TypeError; fetch reports some refusals that way, so wrap them.
  const wrapped = () =>
    attempt().catch((error: unknown) => {
      throw error instanceof TypeError ? new Error(describeCause(error), { cause: error }) : error;
    });
  return pRetry(wrapped, {
    retries: Number.POSITIVE_INFINITY,
    factor: 2,
    minTimeout: options.minMs,
    maxTimeout: options.maxMs,
    randomize: true,
    signal: options.signal,
    onFailedAttempt: ({ error }) => options.onFailure(describeCause(error)),
  }).catch(() => undefined); // only ends early when aborted
}
