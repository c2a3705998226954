import { DEFAULT_BEARER_TOKEN, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT_MS } from '@meshgate/service-kit';
import type { Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { SERVICE_NAME_PATTERN } from '../model/naming.js';
import type { CredentialSpec } from '../model/service.js';
import { AUTH_ENV_VARS, authEnvShape, tokenInput } from './auth.js';

/**
 * Every environment variable the gateway reads, with its default and meaning. The README's
 * configuration table is checked against this list by a test, so the two cannot drift.
 */
export const ENV_VARS = {
  PORT: { default: '3001', description: 'Port of the gateway' },
  HOST: { default: '127.0.0.1', description: 'Listening address; 0.0.0.0 in containers' },
  MCP_BEARER_TOKEN: {
    default: DEFAULT_BEARER_TOKEN,
    description: 'Token clients present (admin and client roles) while no other tokens or JWTs are configured',
  },
  MESHGATE_UPSTREAM_TOKEN: { default: '(MCP_BEARER_TOKEN)', description: 'Token the gateway sends to services registered without a credential' },
  SHOPPING_SERVICE_URL: { default: 'http://localhost:3002/mcp', description: 'MCP endpoint of the default shopping-service' },
  USER_SERVICE_URL: { default: 'http://localhost:3003/mcp', description: 'MCP endpoint of the default user-service' },
  SHOPPING_SERVICE_TOKEN: { default: '(MESHGATE_UPSTREAM_TOKEN)', description: 'Token the gateway sends to shopping-service' },
  USER_SERVICE_TOKEN: { default: '(MESHGATE_UPSTREAM_TOKEN)', description: 'Token the gateway sends to user-service' },
  MESHGATE_DB_PATH: { default: './data/meshgate.db', description: 'SQLite file holding registrations and last-seen catalogs' },
  MESHGATE_CONFIG: { default: '(none)', description: 'Path of a JSON config file listing services (replaces the two defaults)' },
  ...AUTH_ENV_VARS,
  MESHGATE_UPSTREAM_TIMEOUT_MS: { default: '60000', description: 'Deadline of one upstream call; progress extends it' },
  MESHGATE_UPSTREAM_MAX_TIMEOUT_MS: { default: '600000', description: 'Absolute deadline of one upstream call' },
  MESHGATE_CONNECT_TIMEOUT_MS: { default: '5000', description: 'Deadline to connect to a service and list its tools' },
  MESHGATE_PROBE_INTERVAL_MS: { default: '15000', description: 'Health probe interval per service (its /health, else MCP ping); 0 disables' },
  MESHGATE_RETRY_MAX_MS: { default: '5000', description: 'Longest wait between reconnection attempts' },
  MESHGATE_BREAKER_THRESHOLD: { default: '5', description: 'Consecutive service faults (timeouts, invalid answers) that open its circuit' },
  MESHGATE_BREAKER_COOLDOWN_MS: { default: '10000', description: 'How long an open circuit fails calls fast before one probe call' },
  MESHGATE_MAX_RESPONSE_BYTES: { default: '16777216', description: 'Largest answer read from a service' },
  MESHGATE_LIST_PAGE_SIZE: { default: '1000', description: "Items per page of the gateway's own tools/prompts/resources lists (clients follow nextCursor)" },
  MESHGATE_MAX_LIST_ITEMS: { default: '5000', description: 'Tools (prompts, resources, templates) kept from one service; more are dropped with a warning' },
  MESHGATE_MAX_DESCRIPTION_CHARS: { default: '16384', description: 'Longest tool or prompt description kept; longer ones are cut with a warning' },
  MESHGATE_ALLOWED_ORIGINS: {
    default: '(pages on localhost, 127.0.0.1, [::1])',
    description: 'Browser origins allowed on /mcp and the admin API, comma-separated, or `*`; others get 403',
  },
  MESHGATE_ALLOWED_HOSTS: {
    default: '(loopback names if HOST is loopback, else any)',
    description: 'Host header values accepted (name or name:port), comma-separated, or `*`; others get 403',
  },
  MESHGATE_ALLOW_PRIVATE_NETWORKS: {
    default: 'true',
    description: 'Registrations may point at loopback and private networks; link-local and cloud metadata are always refused',
  },
  MESHGATE_RATE_LIMIT_PER_MINUTE: { default: '0 (off)', description: 'Requests per minute per token on /mcp and the admin API; over it, 429 with Retry-After' },
  MESHGATE_MAX_CONNECTIONS: { default: '10000', description: 'Open client connections; more are closed on accept' },
  MESHGATE_HEADERS_TIMEOUT_MS: { default: '9000', description: 'Deadline for a client to send its request headers (slowloris)' },
  MESHGATE_REQUEST_TIMEOUT_MS: { default: '30000', description: 'Deadline for a client to send its whole request, body included' },
  LOG_LEVEL: { default: 'info', description: 'pino level: trace, debug, info, warn, error, fatal' },
  LOG_FORMAT: { default: '(pretty on a TTY, else json)', description: '`pretty` or `json`' },
} as const;

const serviceName = z
  .string()
  .regex(SERVICE_NAME_PATTERN, 'service names are lowercase letters, digits and dashes, starting with a letter or digit, at most 63 characters');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** How a credential is written in the config file or a registration body. */
export const credentialInput = z.union([
  z.strictObject({ bearer: z.string().min(1) }),
  z.strictObject({ bearerEnv: z.string().min(1) }),
  z.strictObject({ header: z.string().regex(/^[A-Za-z0-9-]+$/), value: z.string().min(1) }),
  z.strictObject({ header: z.string().regex(/^[A-Za-z0-9-]+$/), valueEnv: z.string().min(1) }),
  z.strictObject({ none: z.literal(true) }),
  z.strictObject({ gateway: z.literal(true) }),
]);
export type CredentialInput = z.infer<typeof credentialInput>;

/** The stored form of a credential input. */
export function toCredentialSpec(input: CredentialInput): CredentialSpec {
  if ('bearer' in input) return { type: 'bearer', token: input.bearer };
  if ('bearerEnv' in input) return { type: 'bearer', tokenEnv: input.bearerEnv };
  if ('value' in input) return { type: 'header', header: input.header, value: input.value };
  if ('valueEnv' in input) return { type: 'header', header: input.header, valueEnv: input.valueEnv };
  if ('gateway' in input) return { type: 'gateway' };
  return { type: 'none' };
}

const fallbackTool = z.looseObject({ name: z.string().min(1), inputSchema: z.looseObject({ type: z.literal('object') }) });

export const configFileSchema = z.strictObject({
  services: z
    .array(
      z.strictObject({
        name: serviceName,
        url: httpUrl,
        credential: credentialInput.optional(),
        /** Tools to list while the service has never been reached. */
        fallbackTools: z.array(fallbackTool).optional(),
      }),
    )
    .optional(),
  /** Client tokens; see config/auth.ts. */
  tokens: z.array(tokenInput).optional(),
});
export type ConfigFile = z.infer<typeof configFileSchema>;

const port = z.coerce.number().int().min(0).max(65_535);
const millis = z.coerce.number().int().min(0);

export const envSchema = z.object({
  PORT: port.default(3001),
  HOST: z.string().min(1).default('127.0.0.1'),
  MCP_BEARER_TOKEN: z.string().min(1).default(DEFAULT_BEARER_TOKEN),
  SHOPPING_SERVICE_URL: httpUrl.default(ENV_VARS.SHOPPING_SERVICE_URL.default),
  USER_SERVICE_URL: httpUrl.default(ENV_VARS.USER_SERVICE_URL.default),
  MESHGATE_UPSTREAM_TOKEN: z.string().min(1).optional(),
  SHOPPING_SERVICE_TOKEN: z.string().min(1).optional(),
  USER_SERVICE_TOKEN: z.string().min(1).optional(),
  MESHGATE_CONFIG: z.string().min(1).optional(),
  ...authEnvShape,
  MESHGATE_DB_PATH: z.string().min(1).default('./data/meshgate.db'),
  MESHGATE_UPSTREAM_TIMEOUT_MS: millis.default(60_000),
  MESHGATE_UPSTREAM_MAX_TIMEOUT_MS: millis.default(600_000),
  MESHGATE_CONNECT_TIMEOUT_MS: millis.default(5_000),
  MESHGATE_PROBE_INTERVAL_MS: millis.default(15_000),
  MESHGATE_RETRY_MAX_MS: millis.default(5_000),
  MESHGATE_BREAKER_THRESHOLD: z.coerce.number().int().min(1).default(5),
  MESHGATE_BREAKER_COOLDOWN_MS: millis.default(10_000),
  MESHGATE_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024),
  MESHGATE_LIST_PAGE_SIZE: z.coerce.number().int().min(1).default(1_000),
  MESHGATE_MAX_LIST_ITEMS: z.coerce.number().int().min(1).default(5_000),
  MESHGATE_MAX_DESCRIPTION_CHARS: z.coerce
    .number()
    .int()
    .min(64)
    .default(16 * 1024),
  MESHGATE_ALLOWED_ORIGINS: z.string().optional(),
  MESHGATE_ALLOWED_HOSTS: z.string().optional(),
  MESHGATE_ALLOW_PRIVATE_NETWORKS: z.stringbool().default(true),
  MESHGATE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(0),
  MESHGATE_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(DEFAULT_MAX_CONNECTIONS),
  MESHGATE_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_HEADERS_TIMEOUT_MS),
  MESHGATE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_REQUEST_TIMEOUT_MS),
});
export type EnvConfig = z.infer<typeof envSchema>;

/** A configured service, resolved. */
export interface ConfiguredService {
  name: string;
  url: string;
  credential: CredentialSpec;
  fallbackTools?: Tool[];
}
