import {
  DEFAULT_BEARER_TOKEN,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  LOG_LEVELS,
  logFormatSchema,
  logLevelSchema,
} from '@meshgate/service-kit';
import { z } from 'zod';
import { DEFAULT_PAGE_SIZE } from '../federation/federation.js';
import { PIN_MODES, type PinMode } from '../model/pins.js';
import { OBSERVABILITY_SETTINGS } from '../observability/settings.js';
import { DEFAULT_AUTH_FAILURES_PER_MINUTE } from '../security/config.js';
import { DEFAULT_LIMITS } from '../upstream/limits.js';
import { AUTH_SETTINGS } from './auth.js';
import { CREDENTIAL_SETTINGS } from './credentials.js';
import { SESSION_SETTINGS } from './sessions.js';
import { docsOf, optional, shapeOf, withDefault } from './setting.js';
import { httpUrl } from './values.js';

const port = z.coerce.number().int().min(0).max(65_535);
const millis = z.coerce.number().int().min(0);
const count = (min: number) => z.coerce.number().int().min(min);
const text = z.string().min(1);
/** Checked without echoing the value: a database URL holds a password. */
const databaseUrl = z.string().refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value), 'must be a postgres:// or postgresql:// URL');
/** How often replicas re-read the shared registry even with no notification (a safety net for anything missed). */
export const DEFAULT_RECONCILE_MS = 30_000;

/**
 * Every environment variable the gateway reads, each defined once: its type, its default
 * (taken from the constant the code uses) and its description. To add a setting, add it
 * here (or to the group it belongs to), read it in load.ts, and run `npm run docs:tables`.
 * Order is the order of the docs table.
 */
export const ENV_SETTINGS = {
  PORT: withDefault(port, 3001, 'Port to listen on', 'services: 3002, 3003'),
  HOST: withDefault(text, '127.0.0.1', 'Listening address; 0.0.0.0 in containers'),
  MCP_BEARER_TOKEN: withDefault(
    text,
    DEFAULT_BEARER_TOKEN,
    'Token clients present (admin and client roles) while no other tokens or JWTs are configured; the services check the same variable',
  ),
  MESHGATE_UPSTREAM_TOKEN: optional(
    text,
    '(MCP_BEARER_TOKEN)',
    'Token the gateway sends to configured services without a credential (and to registrations asking for `{"gateway": true}`, only when it is no client token)',
  ),
  SHOPPING_SERVICE_URL: withDefault(httpUrl, 'http://localhost:3002/mcp', 'MCP endpoint of the default shopping-service'),
  USER_SERVICE_URL: withDefault(httpUrl, 'http://localhost:3003/mcp', 'MCP endpoint of the default user-service'),
  SHOPPING_SERVICE_TOKEN: optional(text, '(MESHGATE_UPSTREAM_TOKEN)', 'Token the gateway sends to shopping-service'),
  USER_SERVICE_TOKEN: optional(text, '(MESHGATE_UPSTREAM_TOKEN)', 'Token the gateway sends to user-service'),
  MESHGATE_DB_PATH: withDefault(text, './data/meshgate.db', 'SQLite file holding registrations and last-seen catalogs (unused with MESHGATE_DATABASE_URL)'),
  MESHGATE_DATABASE_URL: optional(
    databaseUrl,
    '(none: SQLite)',
    'PostgreSQL URL (`postgres://user:password@host:5432/db`) of a registry, session state and rate limits shared by several gateway replicas; every replica gets the same one',
  ),
  MESHGATE_REGISTRY_RECONCILE_MS: withDefault(
    millis,
    DEFAULT_RECONCILE_MS,
    'With MESHGATE_DATABASE_URL: how often a replica re-reads every registration even without a change notification; 0 disables',
  ),
  MESHGATE_CONFIG: optional(text, '(none)', 'Path of a JSON config file listing services (replaces the two defaults) and client tokens'),
  ...AUTH_SETTINGS,
  ...CREDENTIAL_SETTINGS,
  MESHGATE_UPSTREAM_TIMEOUT_MS: withDefault(millis, DEFAULT_LIMITS.requestMs, 'Deadline of one upstream call; progress notifications extend it'),
  MESHGATE_UPSTREAM_MAX_TIMEOUT_MS: withDefault(millis, DEFAULT_LIMITS.maxRequestMs, 'Absolute deadline of one upstream call'),
  MESHGATE_CONNECT_TIMEOUT_MS: withDefault(millis, DEFAULT_LIMITS.connectMs, 'Deadline to connect to a service and list its tools'),
  MESHGATE_PROBE_INTERVAL_MS: withDefault(millis, DEFAULT_LIMITS.probeIntervalMs, 'Health probe interval per service (its /health, else MCP ping); 0 disables'),
  MESHGATE_RETRY_MAX_MS: withDefault(millis, DEFAULT_LIMITS.retryMaxMs, 'Longest wait between reconnection attempts'),
  MESHGATE_BREAKER_THRESHOLD: withDefault(
    count(1),
    DEFAULT_LIMITS.breakerThreshold,
    'Consecutive service faults (timeouts, invalid answers) that open its circuit',
  ),
  MESHGATE_BREAKER_COOLDOWN_MS: withDefault(millis, DEFAULT_LIMITS.breakerCooldownMs, 'How long an open circuit fails calls fast before one probe call'),
  MESHGATE_MAX_RESPONSE_BYTES: withDefault(count(1024), DEFAULT_LIMITS.maxResponseBytes, 'Largest answer read from a service'),
  MESHGATE_LIST_PAGE_SIZE: withDefault(
    count(1),
    DEFAULT_PAGE_SIZE,
    "Items per page of the gateway's own tools/prompts/resources lists (clients follow nextCursor)",
  ),
  MESHGATE_MAX_LIST_ITEMS: withDefault(
    count(1),
    DEFAULT_LIMITS.maxListItems,
    'Tools (prompts, resources, templates) kept from one service; more are dropped with a warning',
  ),
  MESHGATE_MAX_DESCRIPTION_CHARS: withDefault(
    count(64),
    DEFAULT_LIMITS.maxDescriptionChars,
    'Longest tool or prompt description kept; longer ones are cut with a warning',
  ),
  MESHGATE_ALLOWED_ORIGINS: optional(
    z.string(),
    '(pages on localhost, 127.0.0.1, [::1])',
    'Browser origins allowed on `/mcp` and the admin API, comma-separated, or `*`; others get 403',
  ),
  MESHGATE_ALLOWED_HOSTS: optional(
    z.string(),
    '(loopback names if `HOST` is loopback, else any)',
    '`Host` values accepted (`name` or `name:port`), comma-separated, or `*`; others get 403',
  ),
  MESHGATE_ALLOW_PRIVATE_NETWORKS: withDefault(
    z.stringbool(),
    true,
    'Registered URLs may point at loopback and private networks; link-local and cloud metadata are always refused',
  ),
  MESHGATE_ALLOW_STDIO_REGISTRATION: withDefault(
    z.stringbool(),
    false,
    '`POST /register` may register a command (a stdio service the gateway runs on its own host), for admin tokens only; the config file always may',
  ),
  MESHGATE_RATE_LIMIT_PER_MINUTE: withDefault(
    count(0),
    0,
    'Requests per minute per token on `/mcp`, `/sse`, `/messages` and the admin API; over it, 429 with `Retry-After`',
    'off',
  ),
  MESHGATE_AUTH_FAILURES_PER_MINUTE: withDefault(
    count(0),
    DEFAULT_AUTH_FAILURES_PER_MINUTE,
    'Failed authentications (a wrong token or JWT) per minute per client address; past it that address gets 429 with `Retry-After`; 0 turns it off',
  ),
  MESHGATE_MAX_CONNECTIONS: withDefault(count(1), DEFAULT_MAX_CONNECTIONS, 'Open client connections; more are closed as soon as they are accepted'),
  MESHGATE_HEADERS_TIMEOUT_MS: withDefault(count(100), DEFAULT_HEADERS_TIMEOUT_MS, 'Deadline for a client to send its request headers (slowloris)'),
  MESHGATE_REQUEST_TIMEOUT_MS: withDefault(count(100), DEFAULT_REQUEST_TIMEOUT_MS, 'Deadline for a client to send its whole request, body included'),
  MESHGATE_MAX_BODY_BYTES: withDefault(
    count(1024),
    DEFAULT_MAX_BODY_BYTES,
    'Largest request body a client may send on `/mcp` and `/messages`; a larger one gets 413',
  ),
  MESHGATE_PIN_TOOLS: withDefault(
    z.enum(PIN_MODES as [PinMode, ...PinMode[]]),
    'off',
    "Pin each tool's first definition by digest: a later change is held back until an admin approves it (`POST /services/{name}/tools/{tool}/approve`); `serve-pinned` serves the approved definition meanwhile, `withhold` hides the tool; a service's `pin` setting overrides it",
  ),
  MESHGATE_STRIP_INVISIBLE: withDefault(
    z.stringbool(),
    false,
    "Strip ANSI escapes, control characters (but tab and newline), zero-width, bidi and tag characters from services' tool titles and descriptions; a service's `hygiene.strip` overrides it",
  ),
  MESHGATE_FLAG_INSTRUCTIONS: withDefault(
    z.stringbool(),
    true,
    "Flag tool titles and descriptions that read like instructions to the model (shown in `/services`, logged as a warning); a service's `hygiene.flag` overrides it",
  ),
  ...SESSION_SETTINGS,
  ...OBSERVABILITY_SETTINGS,
  LOG_LEVEL: withDefault(logLevelSchema, DEFAULT_LOG_LEVEL, `pino level: ${LOG_LEVELS.join(', ')}; the services read it too`),
  LOG_FORMAT: optional(
    logFormatSchema,
    '(pretty on a TTY, else json)',
    '`pretty` or `json`; the services read it too, and `npm start` uses pretty unless it is set',
  ),
};

/** The environment, parsed: defaults applied, numbers and booleans converted. */
export const envSchema = z.object(shapeOf(ENV_SETTINGS));
export type EnvConfig = z.infer<typeof envSchema>;

/**
 * Every variable's default and meaning, as docs/configuration.md shows them (generated
 * by `npm run docs:tables`, checked by test/docs.test.ts).
 */
export const ENV_VARS = docsOf(ENV_SETTINGS);
