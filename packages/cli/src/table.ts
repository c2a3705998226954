/**
 * Plain-text output for people: aligned tables and key/value blocks. Everything shown
 * comes from the gateway and its services, so control characters (terminal escapes,
 * newlines) are replaced before printing: a service's description cannot rewrite the screen.
 */

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Longest cell before it is cut with `…` (default: no limit). */
  max?: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is removed.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/** One cell's text: strings as they are, null and undefined as `-`, anything else as JSON; control characters become spaces. */
export function cell(value: unknown, max?: number): string {
  const text = value === undefined || value === null || value === '' ? '-' : typeof value === 'string' ? value : JSON.stringify(value);
  const clean = text.replace(CONTROL, ' ');
  return max !== undefined && clean.length > max ? `${clean.slice(0, Math.max(1, max - 1))}…` : clean;
}

/** Rows as an aligned table with a header line; `empty` instead when there are none. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`;
  const grid = [columns.map((column) => column.header), ...rows.map((row) => columns.map((column) => cell(column.value(row), column.max)))];
  const widths = columns.map((_, index) => Math.max(...grid.map((line) => line[index]!.length)));
  return grid
    .map((line) =>
      line
        .map((text, index) => (index === line.length - 1 ? text : text.padEnd(widths[index]!)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** `key: value` lines, keys aligned. */
export function renderFields(fields: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${cell(value)}\n`).join('');
}

/** A past instant as "12s ago" / "5m ago" / "3h ago" / "2d ago" (relative to `now`). */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return '-';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return cell(iso);
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}
