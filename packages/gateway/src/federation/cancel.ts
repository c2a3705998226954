/**
 * What a call needs of its cancellation: whether it is cancelled, and to hear when it is.
 * An AbortSignal is one (the connection's own stop signal is passed as it is); a call's own
 * is a Cancellation.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The cancellation of one call (the client cancels it, goes away, or its held round is
 * dropped): an AbortController's `abort()` and `signal`, without its cost. Node's
 * AbortController is an EventTarget, and making one per call with a listener added and
 * taken off again was a measured part of what a 2026-07-28 or in-session `tools/call` cost
 * over a sessionless one (docs/performance.md); most calls are never cancelled, so this
 * holds its listeners in an array made on the first one.
 */
export class Cancellation implements CancelSignal {
  #aborted = false;
  #listeners: Array<() => void> | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Itself, read as a signal: what an AbortController's `signal` is to its `abort()`. */
  get signal(): CancelSignal {
    return this;
  }

  /** Cancels: every listener hears it once; later calls do nothing. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }

  /** As on an AbortSignal: a listener added once cancelled is not called (callers check `aborted` first). Every listener runs once. */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.#aborted) return;
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }
}
