import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';
import { z } from 'zod';
import { asWritable, stdoutDestination } from './log-destination.js';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Secrets must never reach a log line,
 * whatever object a caller happens to log (a request, a service record, an error).
 */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'token',
  '*.token',
  'credential',
  '*.credential',
  'upstreamToken',
  '*.upstreamToken',
  'password',
  '*.password',
];

/** pino's levels, quietest last; `silent` turns logging off. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** `pretty` for people, `json` (one object a line) for machines. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const oneOf = (values: readonly string[]) => `(one of ${values.join(', ')})`;

/** LOG_LEVEL's value; the message lists the levels, so a typo is fixed without reading docs. */
export const logLevelSchema = z.enum(LOG_LEVELS, { error: (issue) => `${JSON.stringify(issue.input)} is not a log level ${oneOf(LOG_LEVELS)}` });

/** LOG_FORMAT's value. */
export const logFormatSchema = z.enum(LOG_FORMATS, { error: (issue) => `${JSON.stringify(issue.input)} is not a log format ${oneOf(LOG_FORMATS)}` });

const loggingEnvSchema = z.object({ LOG_LEVEL: logLevelSchema.default(DEFAULT_LOG_LEVEL), LOG_FORMAT: logFormatSchema.optional() });

/** How a process logs, resolved from its environment. */
export interface LoggingSettings {
  level: LogLevel;
  format: LogFormat;
}

export type LoggingResult = { ok: true; value: LoggingSettings } | { ok: false; message: string };

/**
 * Reads LOG_LEVEL and LOG_FORMAT (empty counts as unset). Without LOG_FORMAT the output is
 * pretty when a person is watching (`stdoutIsTty`) and JSON otherwise. A bad value is a
 * result, not a throw: the caller has no logger yet to report it with.
 */
export function loggingFromEnv(env: NodeJS.ProcessEnv, stdoutIsTty: boolean = process.stdout.isTTY === true): LoggingResult {
  const set = (name: string) => (env[name] === '' ? undefined : env[name]);
  const parsed = loggingEnvSchema.safeParse({ LOG_LEVEL: set('LOG_LEVEL'), LOG_FORMAT: set('LOG_FORMAT') });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `env.${issue.path.join('.')}: ${issue.message}`);
    return { ok: false, message: `invalid configuration: ${issues.join('; ')}` };
  }
  return { ok: true, value: { level: parsed.data.LOG_LEVEL, format: parsed.data.LOG_FORMAT ?? (stdoutIsTty ? 'pretty' : 'json') } };
}

export interface LoggerConfig {
  /** The process's name (`mcp-gateway`, `user-service`): the `name` key of every line. */
  name: string;
  /** pino level; without it, LOG_LEVEL or `info`. */
  level?: string;
  /** Without it, LOG_FORMAT, else pretty on a TTY. */
  format?: LogFormat;
  /**
   * Where JSON lines go (tests); by default stdout through `stdoutDestination`, which
   * never makes the process wait for its reader. Ignored for pretty output.
   */
  destination?: DestinationStream;
}

/**
 * Keys pino writes on every line by itself. The process's identity is `name` (a binding);
 * `service` is left to call sites, for the service a line is about.
 */
const PINO_KEYS = ['level', 'time', 'pid', 'hostname'];

/** pino's own keys plus the logger's bindings (`name`, a child's fields), cached per logger. */
const takenKeysCache = new WeakMap<Logger, { chindings: unknown; keys: Set<string> }>();
function takenKeys(logger: Logger): Set<string> {
  const chindings = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym];
  const cached = takenKeysCache.get(logger);
  if (cached !== undefined && cached.chindings === chindings) return cached.keys;
  const keys = new Set([...PINO_KEYS, ...Object.keys(logger.bindings())]);
  takenKeysCache.set(logger, { chindings, keys });
  return keys;
}

/**
 * pino does not merge a logged field with a binding of the same name: it writes both, and
 * log tools then keep one or the other. A logged field that clashes is renamed `<key>_`,
 * so every line has each key once and nothing logged is lost.
 */
export function renameClashingFields(fields: Record<string, unknown>, taken: ReadonlySet<string>): Record<string, unknown> {
  let renamed: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (!taken.has(key)) continue;
    renamed ??= { ...fields };
    let target = `${key}_`;
    while (target in renamed) target += '_';
    renamed[target] = renamed[key];
    delete renamed[key];
  }
  return renamed ?? fields;
}

function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && !Array.isArray(value);
}

const hooks: LoggerOptions['hooks'] = {
  logMethod(args, method) {
    const [first, ...rest] = args as unknown[];
    if (isFields(first)) {
      const taken = takenKeys(this);
      // `msg` clashes only when a message is passed too; alone, pino uses it as the message.
      const clashes = rest.length > 0 && 'msg' in first ? new Set([...taken, 'msg']) : taken;
      const fields = renameClashingFields(first, clashes);
      if (fields !== first) return method.apply(this, [fields, ...rest] as Parameters<typeof method>);
    }
    return method.apply(this, args);
  },
};

/** Creates the process logger: JSON by default, readable when a person is watching. */
export function createLogger(config: LoggerConfig): Logger {
  const fromEnv = config.level === undefined || config.format === undefined ? loggingFromEnv(process.env) : undefined;
  if (fromEnv !== undefined && !fromEnv.ok) throw new Error(fromEnv.message);
  const level = config.level ?? fromEnv?.value.level ?? DEFAULT_LOG_LEVEL;
  const format = config.format ?? fromEnv?.value.format ?? 'json';
  const options: LoggerOptions = {
    name: config.name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    hooks,
  };
  if (format === 'pretty') {
    // Pretty printing in this thread (no worker), onto the same never-waiting stdout.
    const stream = pretty({
      sync: true,
      destination: asWritable(stdoutDestination()),
      colorize: process.stdout.isTTY || process.env['FORCE_COLOR'] === '1',
      // The process is already named by `npm start`'s prefix; `service` stays: it is the service a line is about.
      ignore: 'pid,hostname,name',
      translateTime: 'HH:MM:ss.l',
      singleLine: true,
    });
    return pino(options, stream);
  }
  return pino(options, config.destination ?? stdoutDestination());
}

/**
 * The logger of a process named `name`, from LOG_LEVEL and LOG_FORMAT. A bad value is a
 * start-up mistake with no logger to report it: one plain line on stderr, exit 1, no stack trace.
 */
export function processLogger(name: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const logging = loggingFromEnv(env);
  if (!logging.ok) {
    process.stderr.write(`${logging.message}\n`);
    process.exit(1);
  }
  return createLogger({ name, ...logging.value });
}
