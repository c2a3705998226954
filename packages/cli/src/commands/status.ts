import { type Context, print } from '../context.js';
import { failed } from '../errors.js';
import { api } from '../http.js';
import { ago, renderFields, renderTable } from '../table.js';

interface Health {
  status?: string;
  service?: string;
  uptimeSeconds?: number;
  sessions?: number;
  services?: Record<string, { status: string; since?: string; tools?: number }>;
}

/** `meshgate status`: is the gateway up, does it take the token, how are its services. */
export async function status(context: Context): Promise<void> {
  const { body } = await api(context, 'GET', '/health', { authenticated: false });
  const health = body as Health;
  if (typeof health !== 'object' || health === null || health.service !== 'mcp-gateway') {
    throw failed(`${context.target.url} answers /health, but not as a Meshgate gateway; check --url or MESHGATE_URL`);
  }
  // /health is open: the token is checked on a route that needs it (any role may list services).
  await api(context, 'GET', '/services');
  const services = Object.entries(health.services ?? {}).map(([name, service]) => ({ name, ...service }));
  print(context, { url: context.target.url, token: { source: context.target.tokenSource, accepted: true }, health }, () => {
    const head = renderFields([
      ['Gateway', `${context.target.url} (from ${context.target.urlSource})`],
      ['Status', `${health.status ?? '?'}, up ${health.uptimeSeconds ?? '?'} s, ${health.sessions ?? 0} open sessions`],
      ['Token', `accepted (from ${context.target.tokenSource})`],
    ]);
    const table = renderTable(
      services,
      [
        { header: 'SERVICE', value: (s) => s.name },
        { header: 'STATUS', value: (s) => s.status },
        { header: 'TOOLS', value: (s) => s.tools ?? 0 },
        { header: 'SINCE', value: (s) => ago(s.since) },
      ],
      '(no services)',
    );
    return `${head}\n${table}`;
  });
}
