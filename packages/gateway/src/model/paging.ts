import { GatewayError } from '../errors.js';

/**
 * The gateway's own paging of its merged lists. The catalog already holds every page of
 * every service (listed at connect and on `list_changed`), so a client that follows
 * `nextCursor` walks one merged list and sees each item exactly once. The cursor names
 * the last item served, so a list that changes between pages resumes after that item
 * rather than at a shifted offset.
 */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

interface CursorState {
  /** Exposed name (or URI) of the last item served. */
  after: string;
  /** Its position then, used when that item is gone. */
  at: number;
}

export function paginate<T>(items: readonly T[], keyOf: (item: T) => string, cursor: unknown, pageSize: number): Page<T> {
  const start = cursor === undefined ? 0 : startAfter(decode(cursor), (key) => items.findIndex((item) => keyOf(item) === key), items.length);
  return pageAt(items, keyOf, start, pageSize);
}

/**
 * One view of one list (a catalog's tools as one allow-list sees them, say), answered
 * page by page without work per request: the list is fixed when the view is made (the
 * catalog is rebuilt, with new views, when anything changes), so every page the view
 * issues a cursor for is built once, as a frozen result object (`{ tools: [...],
 * nextCursor }`) whose JSON the response writer memoizes by identity. A cursor is looked
 * up by name in a map built on the first one. Only a cursor from an older catalog can
 * start elsewhere than a page boundary; that page is cut for the request and not kept,
 * so a client cannot make a view hold more than its own pages.
 */
export class ListView<E, T = E> {
  readonly #items: readonly E[];
  readonly #keyOf: (entry: E) => string;
  readonly #itemOf: (entry: E) => T;
  readonly #whole: readonly T[] | undefined;
  readonly #key: string;
  readonly #pageSize: number;
  /** Where each key sits, built on the first cursor. */
  #positions: Map<string, number> | undefined;
  /** Results by start position: 0 and the page boundaries, built when first asked for. */
  readonly #pages = new Map<number, Readonly<Record<string, unknown>>>();

  /**
   * `entries` (which must not change afterwards) are listed as `itemOf(entry)`, each
   * named by `keyOf(entry)` in cursors; `key` names the result's list (`tools`, ...).
   * `whole`, when given, is `entries.map(itemOf)` already built (the catalog's own array).
   */
  constructor(options: { entries: readonly E[]; keyOf: (entry: E) => string; itemOf: (entry: E) => T; key: string; pageSize: number; whole?: readonly T[] }) {
    this.#items = options.entries;
    this.#keyOf = options.keyOf;
    this.#itemOf = options.itemOf;
    this.#whole = options.whole;
    this.#key = options.key;
    this.#pageSize = Math.max(1, options.pageSize);
  }

  get size(): number {
    return this.#items.length;
  }

  /** The result for `cursor` (undefined for the first page); throws `invalid_body` for a cursor this gateway did not issue. */
  page(cursor: unknown): Readonly<Record<string, unknown>> {
    const start = cursor === undefined ? 0 : startAfter(decode(cursor), (key) => this.#position(key), this.#items.length);
    const kept = start % this.#pageSize === 0;
    const cached = kept ? this.#pages.get(start) : undefined;
    if (cached !== undefined) return cached;
    const page = pageAt(this.#items, this.#keyOf, start, this.#pageSize);
    const whole = start === 0 && page.items.length === this.#items.length;
    const items = whole && this.#whole !== undefined ? this.#whole : Object.freeze(page.items.map(this.#itemOf));
    const result = Object.freeze(page.nextCursor === undefined ? { [this.#key]: items } : { [this.#key]: items, nextCursor: page.nextCursor });
    if (kept) this.#pages.set(start, result);
    return result;
  }

  #position(key: string): number {
    if (this.#positions === undefined) {
      this.#positions = new Map(this.#items.map((item, index) => [this.#keyOf(item), index]));
    }
    return this.#positions.get(key) ?? -1;
  }
}

/** Where the page after `state` starts, given where its item is now (-1 when it is gone). */
function startAfter(state: CursorState, indexOf: (key: string) => number, length: number): number {
  const index = indexOf(state.after);
  // The item is gone: the ones after it moved up one place, into its old position.
  return index >= 0 ? index + 1 : Math.min(state.at, length);
}

function pageAt<T>(items: readonly T[], keyOf: (item: T) => string, start: number, pageSize: number): Page<T> {
  if (start === 0 && items.length <= pageSize) return { items: items as T[] };
  const page = items.slice(start, start + pageSize);
  const end = start + page.length;
  const last = page.at(-1);
  if (end >= items.length || last === undefined) return { items: page };
  return { items: page, nextCursor: encode({ after: keyOf(last), at: end - 1 }) };
}

function encode(state: CursorState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decode(cursor: unknown): CursorState {
  if (typeof cursor === 'string' && cursor.length <= 4096) {
    try {
      const state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorState>;
      if (typeof state.after === 'string' && Number.isInteger(state.at) && (state.at as number) >= 0) return state as CursorState;
    } catch {
      // falls through to the error below
    }
  }
  throw new GatewayError('invalid_body', 'Invalid params: "cursor" is not a cursor this gateway issued; list again without one');
}
