import { type Context, print } from '../context.js';
import { failed } from '../errors.js';
import { api } from '../http.js';
import { type Column, renderTable } from '../table.js';
import { AUDIT_FILTERS } from './specs.js';

/** A bare date for `--since` means its first instant (UTC); the gateway takes ISO-8601 date-times. */
function sinceOf(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
}

/** `/audit` with the filters given. */
export function auditPath(values: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const name of AUDIT_FILTERS) {
    const value = values[name];
    if (typeof value === 'string' && value !== '') query.set(name, name === 'since' ? sinceOf(value) : value);
  }
  const text = query.toString();
  return text === '' ? '/audit' : `/audit?${text}`;
}

/** The entries of an answer: the gateway's `{entries: [...]}`. */
export function auditItems(body: unknown): Array<Record<string, unknown>> {
  const items = (body as { entries?: unknown } | undefined)?.entries;
  if (!Array.isArray(items)) throw failed('GET /audit answered without {entries: [...]}: is the gateway newer than this CLI?');
  return items.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}

/** The columns of an audit entry (the gateway's AuditEntry: at, kind, identity, service, target, outcome, code, durationMs). */
const COLUMNS: Column<Record<string, unknown>>[] = [
  { header: 'TIME', value: (row) => row['at'] },
  { header: 'KIND', value: (row) => row['kind'] },
  { header: 'IDENTITY', value: (row) => row['identity'] },
  { header: 'SERVICE', value: (row) => row['service'] },
  { header: 'TARGET', value: (row) => row['target'], max: 60 },
  { header: 'OUTCOME', value: (row) => row['outcome'] },
  { header: 'CODE', value: (row) => row['code'] },
  { header: 'MS', value: (row) => row['durationMs'] },
];

/** `meshgate audit`: the gateway's audit log, filtered (admin token). */
export async function audit(context: Context, _positionals: string[], values: Record<string, unknown>): Promise<void> {
  const answer = await api(context, 'GET', auditPath(values), { allow: [404] });
  if (answer.status === 404) throw failed('this gateway has no audit log (MESHGATE_AUDIT is off, or the gateway predates it)');
  const items = auditItems(answer.body);
  print(context, items, () => renderTable(items, COLUMNS, '(no audit entries)'));
}
