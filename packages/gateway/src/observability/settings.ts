import { z } from 'zod';
import { optional, withDefault } from '../config/setting.js';

/** How a call's arguments reach the audit log: a SHA-256 digest (default), in full, or not at all. */
export type AuditArguments = 'digest' | 'full' | 'none';
/** The pino level of access-log lines, or off. */
export type AccessLogLevel = 'off' | 'trace' | 'debug' | 'info' | 'warn';

export const DEFAULT_AUDIT_RETENTION_DAYS = 90;
export const DEFAULT_AUDIT_MAX_ENTRIES = 1_000_000;

const flag = z.stringbool();
const port = z.coerce.number().int().min(1).max(65_535);
const positive = z.coerce.number().int().min(1);

/**
 * The observability variables: part of the env schema and of docs/configuration.md. The
 * OpenTelemetry ones are the standard names, read by the exporter itself; they are listed
 * here so that every variable the gateway reacts to is documented in one table.
 */
export const OBSERVABILITY_SETTINGS = {
  MESHGATE_METRICS: withDefault(flag, true, '`GET /metrics` in Prometheus text format (see `MESHGATE_METRICS_TOKEN` for who may read it)'),
  MESHGATE_METRICS_TOKEN: optional(
    z.string().min(16, 'must be at least 16 characters'),
    '(none: /metrics is open to loopback clients only)',
    'Bearer token a scraper presents on `/metrics`; with it, any address may scrape',
  ),
  MESHGATE_METRICS_PORT: optional(
    port,
    '(none: /metrics on `PORT`)',
    'Serve `/metrics` only on this port of `HOST` (open there: protect it by network policy), not on `PORT`',
  ),
  MESHGATE_ACCESS_LOG: withDefault(
    z.enum(['off', 'trace', 'debug', 'info', 'warn']),
    'info',
    'Level of the one access-log line per request (`off`, `trace`, `debug`, `info`, `warn`); it shows only if `LOG_LEVEL` lets that level through',
  ),
  MESHGATE_AUDIT: withDefault(flag, true, 'Durable audit log of tool calls, prompt gets, resource reads and admin changes, in the registry database'),
  MESHGATE_AUDIT_ARGUMENTS: withDefault(
    z.enum(['digest', 'full', 'none']),
    'digest',
    'How call arguments are audited: `digest` (SHA-256 of their JSON), `full` (the arguments themselves), `none`',
  ),
  MESHGATE_AUDIT_RETENTION_DAYS: withDefault(positive, DEFAULT_AUDIT_RETENTION_DAYS, 'Audit entries older than this many days are deleted'),
  MESHGATE_AUDIT_MAX_ENTRIES: withDefault(positive, DEFAULT_AUDIT_MAX_ENTRIES, 'At most this many audit entries are kept; the oldest go first'),
  OTEL_SDK_DISABLED: withDefault(flag, false, 'OpenTelemetry: `true` turns tracing off whatever else is set'),
  OTEL_TRACES_EXPORTER: optional(
    z.enum(['otlp', 'none']),
    '(otlp once an OTLP endpoint is set, else none)',
    'OpenTelemetry: `otlp` exports traces over OTLP/HTTP, `none` turns tracing off',
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(z.url(), '(none: tracing off)', 'OpenTelemetry: OTLP/HTTP base URL; traces go to `<url>/v1/traces`'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(z.url(), '(from OTEL_EXPORTER_OTLP_ENDPOINT)', 'OpenTelemetry: full OTLP/HTTP URL for traces'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optional(
    z.enum(['http/json'], { error: 'must be http/json: the OTLP exporter of this build sends JSON (put a collector in front for protobuf or gRPC)' }),
    '(http/json)',
    'OpenTelemetry: the exporter of this build speaks `http/json` only; other values are refused at start-up',
  ),
  OTEL_EXPORTER_OTLP_HEADERS: optional(
    z.string(),
    '(none)',
    'OpenTelemetry: headers of every export, `key=value` comma-separated (e.g. a collector API key; read by the exporter, never logged)',
  ),
  OTEL_EXPORTER_OTLP_TIMEOUT: optional(z.coerce.number().int().min(1), '(10000)', 'OpenTelemetry: milliseconds an export may take'),
  OTEL_BSP_SCHEDULE_DELAY: optional(
    z.coerce.number().int().min(0),
    '(5000)',
    'OpenTelemetry: milliseconds between span exports (spans are sent in batches; the rest on shutdown)',
  ),
  OTEL_SERVICE_NAME: withDefault(z.string().min(1), 'mcp-gateway', "OpenTelemetry: `service.name` of the gateway's spans"),
};

/** The observability variables, as parsed by the env schema. */
export interface ObservabilityEnv {
  MESHGATE_METRICS: boolean;
  MESHGATE_METRICS_TOKEN?: string | undefined;
  MESHGATE_METRICS_PORT?: number | undefined;
  MESHGATE_ACCESS_LOG: AccessLogLevel;
  MESHGATE_AUDIT: boolean;
  MESHGATE_AUDIT_ARGUMENTS: AuditArguments;
  MESHGATE_AUDIT_RETENTION_DAYS: number;
  MESHGATE_AUDIT_MAX_ENTRIES: number;
  OTEL_SDK_DISABLED: boolean;
  OTEL_TRACES_EXPORTER?: 'otlp' | 'none' | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string | undefined;
  OTEL_EXPORTER_OTLP_HEADERS?: string | undefined;
  OTEL_EXPORTER_OTLP_TIMEOUT?: number | undefined;
  OTEL_BSP_SCHEDULE_DELAY?: number | undefined;
  OTEL_SERVICE_NAME: string;
}

/** Everything observability needs, resolved. */
export interface ObservabilityConfig {
  metrics: { enabled: boolean; token: string | undefined; port: number | undefined };
  accessLog: AccessLogLevel;
  audit: { enabled: boolean; arguments: AuditArguments; retentionMs: number; maxEntries: number };
  /** Undefined when tracing is off. */
  tracing: { url: string; serviceName: string } | undefined;
}

/** Off for everything: what tests and embedders get unless they ask. */
export const OBSERVABILITY_OFF: ObservabilityConfig = {
  metrics: { enabled: false, token: undefined, port: undefined },
  accessLog: 'off',
  audit: { enabled: false, arguments: 'digest', retentionMs: DEFAULT_AUDIT_RETENTION_DAYS * 86_400_000, maxEntries: DEFAULT_AUDIT_MAX_ENTRIES },
  tracing: undefined,
};

/**
 * The observability settings. Tracing is on only when asked for (an OTLP endpoint, or
 * `OTEL_TRACES_EXPORTER=otlp`) and not disabled, so that by default it costs nothing.
 */
export function resolveObservability(values: ObservabilityEnv): ObservabilityConfig {
  const exporter = values.OTEL_TRACES_EXPORTER;
  const endpoint =
    values.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (values.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? undefined : `${values.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  const wanted = !values.OTEL_SDK_DISABLED && exporter !== 'none' && (endpoint !== undefined || exporter === 'otlp');
  return {
    metrics: { enabled: values.MESHGATE_METRICS, token: values.MESHGATE_METRICS_TOKEN, port: values.MESHGATE_METRICS_PORT },
    accessLog: values.MESHGATE_ACCESS_LOG,
    audit: {
      enabled: values.MESHGATE_AUDIT,
      arguments: values.MESHGATE_AUDIT_ARGUMENTS,
      retentionMs: values.MESHGATE_AUDIT_RETENTION_DAYS * 86_400_000,
      maxEntries: values.MESHGATE_AUDIT_MAX_ENTRIES,
    },
    tracing: wanted ? { url: endpoint ?? 'http://localhost:4318/v1/traces', serviceName: values.OTEL_SERVICE_NAME } : undefined,
  };
}
