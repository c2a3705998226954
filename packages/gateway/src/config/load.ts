import { readFileSync } from 'node:fs';
import type { Tool } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import type { AuthConfig } from '../auth/authenticator.js';
import { EMPTY_LISTINGS } from '../model/catalog.js';
import { checkListings } from '../model/intake.js';
import type { VirtualServerSpec } from '../model/virtual-server.js';
import { type ObservabilityConfig, resolveObservability } from '../observability/settings.js';
import type { SurfaceDefaults } from '../registry/registry.js';
import { type SecurityConfig, securityConfig } from '../security/config.js';
import type { UpstreamLimits } from '../upstream/connection.js';
import { resolveAuth } from './auth.js';
import { type CredentialConfig, resolveCredentials } from './credentials.js';
import {
  type ConfigFile,
  type ConfiguredService,
  configFileSchema,
  ENV_SETTINGS,
  type EnvConfig,
  envSchema,
  toCommandSpec,
  toCredentialSpec,
  toSurfaceSpec,
} from './schema.js';
import { SEED_FALLBACK_TOOLS } from './seed-fallbacks.js';
import { resolveSessionKeys, resolveSessions, type SessionLimits } from './sessions.js';

/** Everything the gateway needs to start, resolved from the environment and the config file. */
export interface GatewayConfig {
  port: number;
  host: string;
  /** Sent to services whose credential is `gateway` (the default for registrations). */
  upstreamToken: string;
  services: ConfiguredService[];
  /** Virtual servers of the config file, in its order (docs/tool-surfaces.md). */
  virtualServers: VirtualServerSpec[];
  /** The SQLite registry file (used without `databaseUrl`). */
  dbPath: string;
  /** The shared PostgreSQL database of several replicas (registry, session state, rate limits), when set. */
  database: { url: string; reconcileIntervalMs: number } | undefined;
  /** Items per page of the gateway's own lists. */
  listPageSize: number;
  limits: Partial<UpstreamLimits>;
  /** Who may call the gateway: static tokens, JWTs, the resource URL. */
  auth: AuthConfig;
  /** Origin and Host checks, SSRF policy, rate and socket limits. */
  security: SecurityConfig;
  /** Client sessions: idle timeout and how many may be open, in all and per identity. */
  sessions: SessionLimits;
  /** Keys sealing session ids (newest first) so any replica serves any session; undefined: random ids, one replica. */
  sessionKeys: Buffer[] | undefined;
  /** Largest request body a client may send. */
  maxBodyBytes: number;
  /** Whether `POST /register` may register a command (admin role only). */
  allowStdioRegistration: boolean;
  /** Metrics, traces, access log, audit log. */
  observability: ObservabilityConfig;
  /** What credentials may be and read, the secret key, the registry's size, start-up warnings. */
  credentials: CredentialConfig;
  /** How every service's tools are surfaced unless the service says otherwise (docs/tool-surfaces.md). */
  surface: SurfaceDefaults;
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
  const file = values.MESHGATE_CONFIG === undefined ? undefined : { path: values.MESHGATE_CONFIG, data: readConfigFile(values.MESHGATE_CONFIG) };
  const auth = resolveAuth(values, file?.data.tokens, present);
  if (!auth.ok) throw new ConfigError(`invalid configuration: ${auth.message}`);
  const sessions = resolveSessions(values);
  if (!sessions.ok) throw new ConfigError(`invalid configuration: ${sessions.message}`);
  const sessionKeys = resolveSessionKeys(values);
  if (!sessionKeys.ok) throw new ConfigError(`invalid configuration: ${sessionKeys.message}`);
  const upstreamToken = values.MESHGATE_UPSTREAM_TOKEN ?? values.MCP_BEARER_TOKEN;
  const services = file === undefined ? defaultServices(values, present) : servicesFromFile(file.data, file.path);
  const credentials = resolveCredentials(values, {
    ownSettings: new Set(Object.keys(ENV_SETTINGS)),
    upstreamToken,
    clientTokens: auth.value.tokens.map((entry) => entry.token),
    services,
    fromFile: file !== undefined,
    env: present,
  });
  if (!credentials.ok) throw new ConfigError(`invalid configuration: ${credentials.message}`);
  return {
    port: values.PORT,
    host: values.HOST,
    upstreamToken,
    services,
    virtualServers: file === undefined ? [] : virtualServersFromFile(file.data, file.path),
    credentials: credentials.value,
    auth: auth.value,
    dbPath: values.MESHGATE_DB_PATH,
    database:
      values.MESHGATE_DATABASE_URL === undefined
        ? undefined
        : { url: values.MESHGATE_DATABASE_URL, reconcileIntervalMs: values.MESHGATE_REGISTRY_RECONCILE_MS },
    listPageSize: values.MESHGATE_LIST_PAGE_SIZE,
    security: perimeter(values),
    sessions: sessions.value,
    sessionKeys: sessionKeys.value,
    maxBodyBytes: values.MESHGATE_MAX_BODY_BYTES,
    allowStdioRegistration: values.MESHGATE_ALLOW_STDIO_REGISTRATION,
    observability: resolveObservability(values),
    surface: { pin: values.MESHGATE_PIN_TOOLS, strip: values.MESHGATE_STRIP_INVISIBLE, flag: values.MESHGATE_FLAG_INSTRUCTIONS },
    limits: {
      requestMs: values.MESHGATE_UPSTREAM_TIMEOUT_MS,
      maxRequestMs: values.MESHGATE_UPSTREAM_MAX_TIMEOUT_MS,
      connectMs: values.MESHGATE_CONNECT_TIMEOUT_MS,
      probeIntervalMs: values.MESHGATE_PROBE_INTERVAL_MS,
      retryMaxMs: values.MESHGATE_RETRY_MAX_MS,
      breakerThreshold: values.MESHGATE_BREAKER_THRESHOLD,
      breakerCooldownMs: values.MESHGATE_BREAKER_COOLDOWN_MS,
      maxResponseBytes: values.MESHGATE_MAX_RESPONSE_BYTES,
      maxListItems: values.MESHGATE_MAX_LIST_ITEMS,
      maxDescriptionChars: values.MESHGATE_MAX_DESCRIPTION_CHARS,
    },
  };
}

/** The perimeter settings; a malformed list is a ConfigError naming the variable. */
function perimeter(values: EnvConfig): SecurityConfig {
  try {
    return securityConfig(values);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
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

function readConfigFile(path: string): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    // A JSON error's message can quote the file, and the file may hold tokens: report where, not what.
    const reason =
      error instanceof SyntaxError
        ? `not valid JSON${/ at position \d+/.exec(error.message)?.[0] ?? ''}`
        : error instanceof Error
          ? error.message
          : String(error);
    throw new ConfigError(`cannot read config file ${path}: ${reason}`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid config file ${path}: ${describe(parsed.error, 'config')}`);
  return parsed.data;
}

function virtualServersFromFile(file: ConfigFile, path: string): VirtualServerSpec[] {
  const servers = file.virtualServers ?? [];
  const names = new Set<string>();
  for (const server of servers) {
    if (names.has(server.name)) throw new ConfigError(`invalid config file ${path}: virtual server "${server.name}" is listed twice`);
    names.add(server.name);
  }
  return servers.map((server) => ({ ...server }) as VirtualServerSpec);
}

function servicesFromFile(file: ConfigFile, path: string): ConfiguredService[] {
  const services = file.services ?? [];
  const names = new Set<string>();
  for (const service of services) {
    if (names.has(service.name)) throw new ConfigError(`invalid config file ${path}: service "${service.name}" is listed twice`);
    names.add(service.name);
  }
  for (const service of services) {
    // Fallback tools are listed to clients like live ones: the same MCP schema check applies.
    const { rejected } = checkListings({ ...EMPTY_LISTINGS, tools: (service.fallbackTools ?? []) as Tool[] });
    const first = rejected[0];
    if (first !== undefined) {
      throw new ConfigError(
        `invalid config file ${path}: service "${service.name}": fallback tool ${first.name === undefined ? '(unnamed)' : `"${first.name}"`}: ${first.reason}`,
      );
    }
  }
  return services.map((service): ConfiguredService => {
    const surface = toSurfaceSpec(service);
    const fallback = {
      ...(service.fallbackTools === undefined ? {} : { fallbackTools: service.fallbackTools as Tool[] }),
      ...(surface === undefined ? {} : { surface }),
    };
    if ('command' in service) return { name: service.name, command: toCommandSpec(service), credential: { type: 'none' }, ...fallback };
    return {
      name: service.name,
      url: service.url,
      credential: service.credential === undefined ? { type: 'gateway' } : toCredentialSpec(service.credential),
      ...(service.transport === undefined ? {} : { transport: service.transport }),
      ...fallback,
    };
  });
}
