import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { UpstreamLimits } from '../upstream/connection.js';
import { configFileSchema, envSchema, toCredentialSpec, type ConfiguredService, type EnvConfig } from './schema.js';
import type { Tool } from '@modelcontextprotocol/server';
import { SEED_FALLBACK_TOOLS } from './seed-fallbacks.js';

/** Everything the gateway needs to start, resolved from the environment and the config file. */
export interface GatewayConfig {
  port: number;
  host: string;
  token: string;
  /** Sent to services whose credential is `gateway` (the default for registrations). */
  upstreamToken: string;
  services: ConfiguredService[];
  /** The SQLite registry file. */
  dbPath: string;
  limits: Partial<UpstreamLimits>;
}

/** A configuration mistake, worded for the person who made it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function describe(error: z.ZodError, where: string): string {
  return error.issues.map((issue) => `${where}${issue.path.length > 0 ? `.${issue.path.join('.')}` : ''}: ${issue.message}`).join('; ');
}

/** Reads env (empty values count as unset) and the optional config file. Throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${describe(parsed.error, 'env')}`);
  const values = parsed.data;
  return {
    port: values.PORT,
    host: values.HOST,
    token: values.MCP_BEARER_TOKEN,
    upstreamToken: values.MESHGATE_UPSTREAM_TOKEN ?? values.MCP_BEARER_TOKEN,
    services: values.MESHGATE_CONFIG === undefined ? defaultServices(values, present) : servicesFromFile(values.MESHGATE_CONFIG),
    dbPath: values.MESHGATE_DB_PATH,
    limits: {
      requestMs: values.MESHGATE_UPSTREAM_TIMEOUT_MS,
      maxRequestMs: values.MESHGATE_UPSTREAM_MAX_TIMEOUT_MS,
      connectMs: values.MESHGATE_CONNECT_TIMEOUT_MS,
      probeIntervalMs: values.MESHGATE_PROBE_INTERVAL_MS,
      retryMaxMs: values.MESHGATE_RETRY_MAX_MS,
      breakerThreshold: values.MESHGATE_BREAKER_THRESHOLD,
      breakerCooldownMs: values.MESHGATE_BREAKER_COOLDOWN_MS,
      maxResponseBytes: values.MESHGATE_MAX_RESPONSE_BYTES,
      maxTools: values.MESHGATE_MAX_TOOLS_PER_SERVICE,
      maxDescriptionChars: values.MESHGATE_MAX_DESCRIPTION_CHARS,
    },
  };
}

/** The seed's two services; each gets its own token variable, falling back to the shared one. */
function defaultServices(values: EnvConfig, env: Record<string, string | undefined>): ConfiguredService[] {
  const credentialFor = (variable: string) => toCredentialSpec(env[variable] !== undefined ? { bearerEnv: variable } : { gateway: true });
  return [
    {
      name: 'shopping-service',
      url: values.SHOPPING_SERVICE_URL,
      credential: credentialFor('SHOPPING_SERVICE_TOKEN'),
      fallbackTools: SEED_FALLBACK_TOOLS['shopping-service'],
    },
    {
      name: 'user-service',
      url: values.USER_SERVICE_URL,
      credential: credentialFor('USER_SERVICE_TOKEN'),
      fallbackTools: SEED_FALLBACK_TOOLS['user-service'],
    },
  ];
}

function servicesFromFile(path: string): ConfiguredService[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid config file ${path}: ${describe(parsed.error, 'config')}`);
  const services = parsed.data.services ?? [];
  const names = new Set<string>();
  for (const service of services) {
    if (names.has(service.name)) throw new ConfigError(`invalid config file ${path}: service "${service.name}" is listed twice`);
    names.add(service.name);
  }
  return services.map((service) => ({
    name: service.name,
    url: service.url,
    credential: service.credential === undefined ? { type: 'gateway' } : toCredentialSpec(service.credential),
    ...(service.fallbackTools === undefined ? {} : { fallbackTools: service.fallbackTools as Tool[] }),
  }));
}
