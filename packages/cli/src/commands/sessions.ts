import { type Context, print } from '../context.js';
import { api } from '../http.js';
import { ago, renderTable } from '../table.js';

/** A session as `GET /sessions` shows it (http/sessions.ts in the gateway). */
interface SessionView {
  id: string;
  identity: string;
  protocolVersion: string;
  client: { name: string | null; version: string | null };
  createdAt: string;
  lastActiveAt: string;
  callsInFlight: number;
  getStream?: boolean;
}

/** `meshgate sessions`: the gateway's open client sessions (admin token). */
export async function sessions(context: Context): Promise<void> {
  const { body } = await api(context, 'GET', '/sessions');
  const list = (body as { sessions: SessionView[] }).sessions;
  print(context, list, () =>
    renderTable(
      list,
      [
        { header: 'SESSION', value: (s) => `${s.id}…` },
        { header: 'IDENTITY', value: (s) => s.identity },
        { header: 'CLIENT', value: (s) => [s.client.name, s.client.version].filter((part) => part !== null).join(' '), max: 40 },
        { header: 'PROTOCOL', value: (s) => s.protocolVersion },
        { header: 'OPENED', value: (s) => ago(s.createdAt) },
        { header: 'LAST ACTIVE', value: (s) => ago(s.lastActiveAt) },
        { header: 'CALLS', value: (s) => s.callsInFlight },
      ],
      '(no open sessions)',
    ),
  );
}
