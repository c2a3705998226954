/** Start-up failures of the stores, one error type whatever the store: `main` reports them the same way. */

/** Why the store could not be opened; `main` can pick an exit message or code from it. */
export type StoreOpenFailure = 'corrupt' | 'read-only' | 'locked' | 'schema-too-new' | 'unavailable';

/**
 * Start-up failure of a store. The message names where (a file path, or a database URL with
 * its password redacted) and says how to fix it.
 */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(
    readonly path: string,
    readonly reason: StoreOpenFailure,
    detail: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot open the registry database ${path}: ${detail}; ${hint}`, options);
  }
}
