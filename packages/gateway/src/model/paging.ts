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
  let start = 0;
  if (cursor !== undefined) {
    const state = decode(cursor);
    const index = items.findIndex((item) => keyOf(item) === state.after);
    // The item is gone: the ones after it moved up one place, into its old position.
    start = index >= 0 ? index + 1 : Math.min(state.at, items.length);
  }
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
