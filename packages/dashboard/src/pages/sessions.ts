import { api } from '../api.js';
import { h, table } from '../dom.js';
import type { Context, Mount } from './context.js';

interface SessionView {
  id: string;
  identity: string;
  protocolVersion: string;
  client: { name: string | null; version: string | null };
  createdAt: string;
  lastActiveAt: string;
  callsInFlight: number;
  getStream: boolean;
}

/** The open MCP sessions (`GET /sessions`, admin): id prefixes only, never a full id. */
export async function sessionsPage(context: Context, mount: Mount): Promise<void> {
  if (!context.admin) {
    mount(h('p', { class: 'error', role: 'alert' }, 'The sessions need a token with the admin role.'));
    return;
  }
  const { sessions } = await api<{ sessions: SessionView[] }>('GET', '/sessions');
  mount(
    h(
      'section',
      {},
      h('h2', {}, `Open sessions (${sessions.length})`),
      sessions.length === 0
        ? h('p', { class: 'hint', 'data-testid': 'no-sessions' }, 'No open sessions. (The dashboard itself calls /mcp without one.)')
        : table(
            ['Id (prefix)', 'Identity', 'Client', 'Protocol', 'Opened', 'Last active', 'Calls in flight', 'GET stream'],
            sessions.map((session) => [
              h('code', {}, session.id),
              session.identity,
              [session.client.name, session.client.version].filter(Boolean).join(' ') || '—',
              session.protocolVersion,
              session.createdAt,
              session.lastActiveAt,
              String(session.callsInFlight),
              session.getStream ? 'open' : '—',
            ]),
            'sessions',
          ),
    ),
  );
}
