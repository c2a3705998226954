import type { ServerCapabilities } from '@modelcontextprotocol/server';
import type { Registry } from '../registry/registry.js';

export const SERVER_INFO = { name: 'meshgate', version: '0.1.0' } as const;
export const INSTRUCTIONS =
  'Meshgate federates the tools, prompts and resources of several MCP services. Names and URIs stay as they are; ' +
  'when two services share one, the later one is listed as <service>__<name> (tools, prompts) or ' +
  'meshgate://<service>/<uri> (resources). Any item can be called by that qualified form.';

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
  };
}
