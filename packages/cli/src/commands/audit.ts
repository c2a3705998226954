import { type Context, print } from '../context.js';
import { failed } from '../errors.js';
import { api } from '../http.js';
import { type Column, renderTable } from '../table.js';
import { AUDIT_FILTERS } from './specs.js';

/** `/audit` with the filters given. */
export function auditPath(values: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const name of AUDIT_FILTERS) {
    const value = values[name];
    if (typeof value === 'string' && value !== '') query.set(name, value);
  }
  const text = query.toString();
  return text === '' ? '/audit' : `/audit?${text}`;
}

/** The entries of an answer: a JSON array or `{items: [...]}`. */
export function auditItems(body: unknown): Array<Record<string, unknown>> {
  const items = Array.isArray(body) ? body : (body as { items?: unknown } | undefined)?.items;
  if (!Array.isArray(items)) throw failed('GET /audit answered with neither a list nor {items: [...]}: is the gateway newer than this CLI?');
  return items.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}

/** A field under any of the names an audit entry may use for it. */
const field =
  (...names: string[]) =>
  (row: Record<string, unknown>): unknown =>
    names.map((name) => row[name]).find((value) => value !== undefined);

/** The columns an audit entry is shown with, each reading the names a log may use for it. */
const KNOWN: Column<Record<string, unknown>>[] = [
  { header: 'TIME', value: field('time', 'at', 'timestamp', 'createdAt') },
  { header: 'IDENTITY', value: field('identity', 'caller') },
  { header: 'SERVICE', value: field('service') },
  { header: 'TOOL', value: field('tool', 'name') },
  { header: 'OUTCOME', value: field('outcome', 'status', 'result') },
  { header: 'MS', value: field('durationMs', 'ms', 'duration') },
  { header: 'DETAIL', value: field('error', 'message', 'detail'), max: 60 },
];

/**
 * The known columns that have something to show; when the entries use other names (a newer
 * gateway), their own keys (the first eight, in order) so nothing is hidden behind dashes.
 */
export function auditColumns(items: ReadonlyArray<Record<string, unknown>>): Column<Record<string, unknown>>[] {
  const filled = KNOWN.filter((column) => items.some((item) => column.value(item) !== undefined));
  if (filled.length >= 3 || items.length === 0) return filled.length > 0 ? filled : KNOWN;
  const keys = [...new Set(items.flatMap((item) => Object.keys(item)))].slice(0, 8);
  return keys.map((key) => ({ header: key.toUpperCase(), value: (row) => row[key], max: 60 }));
}

/** `meshgate audit`: the gateway's audit log, filtered (admin token). */
export async function audit(context: Context, _positionals: string[], values: Record<string, unknown>): Promise<void> {
  const answer = await api(context, 'GET', auditPath(values), { allow: [404] });
  if (answer.status === 404) throw failed('this gateway has no audit log (upgrade it)');
  const items = auditItems(answer.body);
  print(context, items, () => renderTable(items, auditColumns(items), '(no audit entries)'));
}
