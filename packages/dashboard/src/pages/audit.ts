import { api } from '../api.js';
import { errorBox, h, replace, table } from '../dom.js';
import type { Context, Mount } from './context.js';

interface AuditEntry {
  seq?: number;
  at: string;
  kind: string;
  identity: string;
  service: string | null;
  target: string | null;
  outcome: string;
  code: string | null;
  durationMs: number | null;
}

const KINDS = ['tools/call', 'prompts/get', 'resources/read', 'service.register', 'service.update', 'service.deregister'];
const OUTCOMES = ['ok', 'tool_error', 'error', 'cancelled'];
const PAGE = 50;

/** The audit log (`GET /audit`, admin, oldest first) with its filters; "Next entries" follows the cursor. */
export async function auditPage(context: Context, mount: Mount): Promise<void> {
  if (!context.admin) {
    mount(h('p', { class: 'error', role: 'alert' }, 'The audit log needs a token with the admin role.'));
    return;
  }
  const text = (id: string, placeholder: string) => h('input', { id, name: id, placeholder, 'data-testid': `filter-${id}` });
  const choice = (id: string, values: string[]) =>
    h(
      'select',
      { id, name: id, 'data-testid': `filter-${id}` },
      h('option', { value: '' }, `(any ${id})`),
      ...values.map((value) => h('option', { value }, value)),
    );
  const filters = {
    identity: text('identity', 'identity'),
    service: text('service', 'service'),
    tool: text('tool', 'tool or target'),
    kind: choice('kind', KINDS),
    outcome: choice('outcome', OUTCOMES),
    since: text('since', 'since (ISO date-time)'),
    until: text('until', 'until (ISO date-time)'),
  };
  const results = h('div', {});
  let entries: AuditEntry[] = [];

  const load = async (cursor?: string) => {
    const query = new URLSearchParams({ limit: String(PAGE) });
    for (const [key, input] of Object.entries(filters)) if (input.value.trim() !== '') query.set(key, input.value.trim());
    if (cursor !== undefined) query.set('cursor', cursor);
    try {
      const page = await api<{ entries: AuditEntry[]; nextCursor?: string }>('GET', `/audit?${query}`);
      entries = cursor === undefined ? page.entries : [...entries, ...page.entries];
      replace(
        results,
        table(
          ['When', 'Kind', 'Identity', 'Service', 'Target', 'Outcome', 'Code', 'ms'],
          entries.map((entry) => [
            entry.at,
            entry.kind,
            entry.identity,
            entry.service ?? '—',
            entry.target ?? '—',
            entry.outcome,
            entry.code ?? '—',
            entry.durationMs === null ? '—' : String(entry.durationMs),
          ]),
          'audit',
        ),
        entries.length === 0 ? h('p', { class: 'hint' }, 'No entries match.') : null,
        page.nextCursor === undefined ? null : h('button', { type: 'button', onclick: () => void load(page.nextCursor) }, 'Next entries'),
      );
    } catch (error) {
      results.replaceChildren(errorBox(error));
    }
  };

  const form = h('form', { class: 'filters', 'data-testid': 'audit-filters' }, ...Object.values(filters), h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  await load();
  mount(
    h(
      'section',
      {},
      h('h2', {}, 'Audit log'),
      h(
        'p',
        { class: 'hint' },
        'Oldest first, 50 at a time (narrow with since and until). The whole log as NDJSON: GET /audit/export with the same filters, or `meshgate audit`.',
      ),
      form,
      results,
    ),
  );
}
