import { type Context, print } from '../context.js';
import { api } from '../http.js';
import { renderTable } from '../table.js';

/** A virtual server as `GET /virtual-servers` shows it (http/virtual-servers.ts in the gateway). */
interface VirtualServerView {
  name: string;
  path: string;
  mode: string;
  source: string;
  description?: string;
  serves: { tools: string[] };
}

/** `meshgate servers`: the gateway's virtual servers, each with its endpoint and how many tools it serves the caller. */
export async function servers(context: Context): Promise<void> {
  const { body } = await api(context, 'GET', '/virtual-servers');
  const list = (body as { virtualServers: VirtualServerView[] }).virtualServers;
  print(context, list, () =>
    renderTable(
      list,
      [
        { header: 'NAME', value: (s) => s.name },
        { header: 'MODE', value: (s) => s.mode },
        { header: 'SOURCE', value: (s) => s.source },
        { header: 'TOOLS', value: (s) => s.serves.tools.length },
        { header: 'PATH', value: (s) => s.path },
        { header: 'DESCRIPTION', value: (s) => s.description, max: 60 },
      ],
      '(no virtual servers)',
    ),
  );
}
