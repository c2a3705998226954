import type { ServerCapabilities } from '@modelcontextprotocol/server';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { Registry } from '../registry/registry.js';
import { servicesVisibleTo } from './visibility.js';

export const SERVER_INFO = { name: 'meshgate', version: '0.1.0' } as const;
export const INSTRUCTIONS =
  'Meshgate federates the tools, prompts and resources of several MCP services. Names and URIs stay as they are; ' +
  'when two services share one, the later one is listed as <service>__<name> (tools, prompts) or ' +
  'meshgate://<service>/<uri> (resources). Any item can be called by that qualified form.';

/** A service's instructions are cut to this many characters: they come from the service, untrusted. */
export const MAX_SERVICE_INSTRUCTIONS = 4_000;
/** C0 and C1 controls but tab and newline, bidi overrides and zero-width characters: nothing a reader could see. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is what it is for
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * The gateway's instructions and, under each service's name, the instructions of every
 * connected service the caller may use something of (a token with an allow-list learns
 * nothing of the others), in registration order. A service's text is untrusted: invisible
 * characters are removed and it is cut at MAX_SERVICE_INSTRUCTIONS.
 */
export function gatewayInstructions(registry: Registry, identity: GatewayIdentity): string {
  const sections = [INSTRUCTIONS];
  const visible = servicesVisibleTo(registry.catalog, identity);
  for (const service of registry.list()) {
    const text = service.connection.instructions?.replace(INVISIBLE, '').trim();
    if (text === undefined || text === '' || (visible !== undefined && !visible.has(service.record.name))) continue;
    const cut = text.length > MAX_SERVICE_INSTRUCTIONS ? `${text.slice(0, MAX_SERVICE_INSTRUCTIONS)}…` : text;
    sections.push(`## ${service.record.name}\n${cut}`);
  }
  return sections.join('\n\n');
}

/**
 * What the gateway can do now: tools and logging always; prompts, resources and
 * completions when the catalog has them or some connected service offers them. A session
 * keeps what it was offered when it opened.
 */
export function gatewayCapabilities(registry: Registry): ServerCapabilities {
  const { catalog } = registry;
  const live = registry.list().flatMap((service) => service.connection.capabilities ?? []);
  return {
    tools: { listChanged: true },
    logging: {},
    ...(catalog.prompts.items.length > 0 || live.some((c) => c.prompts !== undefined) ? { prompts: { listChanged: true } } : {}),
    ...(catalog.resources.items.length > 0 || catalog.resourceTemplates.items.length > 0 || live.some((c) => c.resources !== undefined)
      ? { resources: { subscribe: true, listChanged: true } }
      : {}),
    ...(live.some((c) => c.completions !== undefined) ? { completions: {} } : {}),
    ...tasksCapability(live),
  };
}

/**
 * Tasks, when some connected service runs tool calls as tasks: `list` and `cancel` when
 * some such service has them (the gateway lists a caller's tasks itself, service by service).
 */
function tasksCapability(live: readonly ServerCapabilities[]): Pick<ServerCapabilities, 'tasks'> {
  const withTasks = live.filter((c) => c.tasks?.requests?.tools?.call !== undefined);
  if (withTasks.length === 0) return {};
  return {
    tasks: {
      ...(withTasks.some((c) => c.tasks?.list !== undefined) ? { list: {} } : {}),
      ...(withTasks.some((c) => c.tasks?.cancel !== undefined) ? { cancel: {} } : {}),
      requests: { tools: { call: {} } },
    },
  };
}
