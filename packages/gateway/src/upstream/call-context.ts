import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The downstream client on whose behalf an upstream call runs: where a service's
 * requests (sampling, elicitation, roots) and notifications (log messages) made during
 * that call are relayed.
 */
export interface Downstream {
  /** Sends a request to the client and resolves with its result. */
  request(method: string, params: Record<string, unknown> | undefined): Promise<Record<string, unknown>>;
  /** Sends a notification to the client. */
  notify(method: string, params: Record<string, unknown> | undefined): Promise<void>;
}

/** What the gateway knows about the upstream call now running. */
export interface CallContext {
  /** Aborted when the call ends without an answer: closes the HTTP request to the service. */
  signal: AbortSignal;
  /** Set once the call's own POST has taken `signal` (later POSTs, such as the cancellation itself, must not). */
  signalClaimed?: boolean;
  downstream?: Downstream;
}

/**
 * The SDK client does not tell a request handler which outgoing call a service's request
 * belongs to; but a request that arrives on the event stream of a call's POST is handled
 * in that call's async context. So the context is entered around each upstream call and
 * read back in the fetch (for the signal) and in the handlers (for the downstream client).
 * Messages on the GET stream belong to no call and see no context.
 */
const storage = new AsyncLocalStorage<CallContext>();

export function runInCall<T>(context: CallContext, call: () => Promise<T>): Promise<T> {
  return storage.run(context, call);
}

export function currentCall(): CallContext | undefined {
  return storage.getStore();
}

/** The call's abort signal, for the first POST made in its context only: that POST is the call. */
export function claimCallSignal(): AbortSignal | undefined {
  const context = storage.getStore();
  if (context === undefined || context.signalClaimed === true) return undefined;
  context.signalClaimed = true;
  return context.signal;
}
