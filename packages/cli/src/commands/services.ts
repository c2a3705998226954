import { type Context, print } from '../context.js';
import { usageError } from '../errors.js';
import { api } from '../http.js';
import { withProgress } from '../progress.js';
import { ago, renderFields, renderTable } from '../table.js';
import { USAGE } from './specs.js';

/** A service as the admin API shows it (http/views.ts in the gateway). */
export interface ServiceView {
  name: string;
  url: string;
  source: string;
  status: string;
  circuit?: string;
  statusChangedAt?: string;
  lastError?: string | null;
  lastSeenAt?: string | null;
  toolsFrom?: string;
  tools?: Array<{ name: string; upstreamName: string }>;
  prompts?: Array<{ name: string }>;
  resources?: Array<{ uri: string }>;
  resourceTemplates?: Array<{ uriTemplate: string }>;
  clashes?: Array<{ name: string; owner: string; service: string; exposedAs: string; kind: string }>;
  credential?: unknown;
}

/** The registration's credential from --bearer-env or --credential (the admin API's forms); undefined: none (the gateway lends no token of its own to a registered service). */
export function credentialOf(values: { credential?: string | undefined; 'bearer-env'?: string | undefined }): unknown {
  if (values.credential !== undefined && values['bearer-env'] !== undefined) throw usageError('give --bearer-env or --credential, not both');
  if (values['bearer-env'] !== undefined) return { bearerEnv: values['bearer-env'] };
  if (values.credential === undefined) return undefined;
  try {
    return JSON.parse(values.credential);
  } catch {
    throw usageError('--credential must be JSON, e.g. \'{"bearerEnv":"MY_TOKEN"}\' or \'{"header":"X-Api-Key","valueEnv":"MY_KEY"}\'');
  }
}

function serviceTable(services: readonly ServiceView[]): string {
  return renderTable(
    services,
    [
      { header: 'NAME', value: (s) => s.name },
      { header: 'STATUS', value: (s) => s.status },
      { header: 'SOURCE', value: (s) => s.source },
      { header: 'TOOLS', value: (s) => s.tools?.length ?? 0 },
      { header: 'URL', value: (s) => s.url },
      { header: 'LAST ERROR', value: (s) => s.lastError, max: 80 },
    ],
    '(no services)',
  );
}

function serviceDetail(service: ServiceView): string {
  const fields = renderFields([
    ['Name', service.name],
    ['URL', service.url],
    ['Source', service.source],
    ['Status', `${service.status} since ${ago(service.statusChangedAt)}`],
    ['Circuit', service.circuit],
    ['Last error', service.lastError],
    ['Last seen', ago(service.lastSeenAt)],
    ['Credential', service.credential],
    ['Tools from', service.toolsFrom],
    ['Prompts', service.prompts?.length ?? 0],
    ['Resources', `${service.resources?.length ?? 0} (+ ${service.resourceTemplates?.length ?? 0} templates)`],
  ]);
  const tools = renderTable(service.tools ?? [], [
    { header: 'TOOL', value: (t) => t.name },
    { header: 'UPSTREAM NAME', value: (t) => t.upstreamName },
  ]);
  const clashes = (service.clashes ?? []).map((c) => `clash: ${c.kind} ${c.name} is ${c.owner}'s; ${c.service}'s is ${c.exposedAs}\n`).join('');
  return `${fields}\n${tools}${clashes}`;
}

const need = (value: string | undefined, what: string): string => {
  if (value === undefined) throw usageError(`missing ${what}\n\n${USAGE.services}`);
  return value;
};

/** `meshgate services …`: the admin API's /register and /services. */
export async function services(context: Context, positionals: string[], values: Record<string, unknown>): Promise<void> {
  const [action = 'list', name, url, ...rest] = positionals;
  const path = (service: string) => `/services/${encodeURIComponent(service)}`;
  switch (action) {
    case 'list': {
      const { body } = await api(context, 'GET', '/services');
      const list = (body as { services: ServiceView[] }).services;
      print(context, list, () => serviceTable(list));
      return;
    }
    case 'show': {
      const { body } = await api(context, 'GET', path(need(name, '<name>')));
      print(context, body, () => serviceDetail(body as ServiceView));
      return;
    }
    case 'add': {
      if (rest.length > 0) throw usageError(`unexpected ${rest.join(' ')}\n\n${USAGE.services}`);
      const credential = credentialOf(values as never);
      const registration = { name: need(name, '<name>'), url: need(url, '<url>'), ...(credential === undefined ? {} : { credential }) };
      const { body } = await withProgress(context.io.stderr, `registering ${registration.name} (connecting to it)`, () =>
        api(context, 'POST', '/register', { body: registration }),
      );
      print(context, body, () => `Registered ${registration.name}.\n\n${serviceDetail(body as ServiceView)}`);
      return;
    }
    case 'update': {
      if (url !== undefined) throw usageError(`give the new URL as --to URL\n\n${USAGE.services}`);
      const credential = credentialOf(values as never);
      const to = values['to'] as string | undefined;
      if (to === undefined && credential === undefined) throw usageError(`give --to URL, a credential, or both\n\n${USAGE.services}`);
      const change = { ...(to === undefined ? {} : { url: to }), ...(credential === undefined ? {} : { credential }) };
      const service = need(name, '<name>');
      const { body } = await withProgress(context.io.stderr, `updating ${service} (connecting with the new settings)`, () =>
        api(context, 'PUT', path(service), { body: change }),
      );
      print(context, body, () => `Updated ${service}.\n\n${serviceDetail(body as ServiceView)}`);
      return;
    }
    case 'remove': {
      const service = need(name, '<name>');
      await api(context, 'DELETE', path(service));
      print(context, { removed: service }, () => `Removed ${service}.\n`);
      return;
    }
    default:
      throw usageError(`unknown services command ${JSON.stringify(action)}\n\n${USAGE.services}`);
  }
}
