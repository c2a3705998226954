/**
 * The environment a command service's process gets: the variables its configuration names,
 * plus PATH and HOME so that programs can be found and can find their caches. Nothing else
 * of the gateway's own environment reaches it: not MCP_BEARER_TOKEN, not any MESHGATE_*
 * setting, not the credentials of other services.
 */
export const INHERITED_VARIABLES = ['PATH', 'HOME'] as const;

export function childEnvironment(configured: Readonly<Record<string, string>>, gateway: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const value = gateway[name];
    if (value !== undefined) env[name] = value;
  }
  // Configured values win, PATH and HOME included. Copied key by key: a `__proto__` key is data, not a prototype.
  for (const [name, value] of Object.entries(configured)) Object.defineProperty(env, name, { value, enumerable: true, writable: true, configurable: true });
  return env;
}
