/** What the gateway knows of one federated service, shared by the registry, the upstream side and configuration. */
import type { Tool } from '@modelcontextprotocol/server';
import type { Listings } from './catalog.js';
import type { ToolOverrides } from './overrides.js';
import type { PinMode } from './pins.js';

/**
 * How one service's tools are surfaced (model/tool-surface.ts); each setting left out takes
 * the gateway's (MESHGATE_PIN_TOOLS, MESHGATE_STRIP_INVISIBLE, MESHGATE_FLAG_INSTRUCTIONS).
 */
export interface ToolSurfaceSpec {
  /** By upstream tool name (model/overrides.ts). */
  overrides?: ToolOverrides;
  pin?: PinMode;
  hygiene?: { strip?: boolean; flag?: boolean };
}

/**
 * How the gateway authenticates to one service. Secrets can be given literally or as
 * the name of an environment variable holding them (`*Env`), so a stored record need
 * not contain the secret itself. The client's own token never travels upstream.
 */
export type CredentialSpec =
  | { type: 'none' }
  /** The gateway's own upstream token (MESHGATE_UPSTREAM_TOKEN, else MCP_BEARER_TOKEN). */
  | { type: 'gateway' }
  | { type: 'bearer'; token?: string; tokenEnv?: string }
  | { type: 'header'; header: string; value?: string; valueEnv?: string };

/**
 * How a command service's processes are shared: `shared` is one process for every client;
 * `per-session` gives each MCP session its own process (for servers that keep per-user
 * state), while one shared process still supplies the catalog and serves sessionless calls.
 */
export type StdioPolicy = 'shared' | 'per-session';

/** A local program the gateway runs and speaks MCP to over its stdin and stdout. */
export interface CommandSpec {
  /** The program: a name looked up on PATH, or a path. */
  command: string;
  args: string[];
  /** The process's environment besides PATH and HOME; values may be secrets and are never shown. */
  env: Record<string, string>;
  /** Working directory; the gateway's own when absent. */
  cwd?: string;
  stdio: StdioPolicy;
}

interface ServiceBase {
  /** Matches SERVICE_NAME_PATTERN; the namespace prefix of its tools. */
  name: string;
  /** `config` services come from configuration; `registered` ones from `POST /register`. */
  source: 'config' | 'registered';
  /** For URL services; a command service has `{ type: 'none' }`. */
  credential: CredentialSpec;
  /** Tools to list while the service has never been reached (from configuration). */
  fallbackTools?: Tool[];
  /** Overrides, pinning and hygiene of its tools; absent: the gateway's defaults. */
  surface?: ToolSurfaceSpec;
  createdAt: string;
  updatedAt: string;
}

/** A service reached over HTTP at its MCP endpoint URL. */
export interface UrlServiceRecord extends ServiceBase {
  url: string;
  /**
   * How to speak to the URL: `auto` (the default when absent) tries streamable HTTP and
   * falls back to the legacy HTTP+SSE transport as the spec's backwards-compatibility
   * section says; `streamable-http` or `sse` takes one without trying the other.
   */
  transport?: 'auto' | 'streamable-http' | 'sse';
  command?: never;
}

/** A service the gateway runs as a local process (upstream/stdio/). */
export interface CommandServiceRecord extends ServiceBase {
  command: CommandSpec;
  url?: never;
  transport?: never;
}

/** A service the gateway federates: exactly one of `url` or `command`. */
export type ServiceRecord = UrlServiceRecord | CommandServiceRecord;

/** How logs and error messages name where a service is: its URL, or `stdio:` and its program. */
export function serviceTarget(record: { url?: string | undefined; command?: CommandSpec | undefined }): string {
  if (record.command !== undefined) return `stdio:${record.command.command}`;
  return record.url ?? '';
}

/** The last listings seen from a service, kept as its fallback definitions. */
export interface CatalogSnapshot extends Listings {
  service: string;
  seenAt: string;
}

/** Query parameters whose values look like secrets; their values are shown as `[redacted]`. */
const SECRET_PARAM = /(key|token|secret|password|passwd|pwd|auth|credential|signature|sig|session|code)/i;

/** A URL safe to show and log: a password in it, and the values of secret-looking query parameters, replaced. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.search === '' && url.password === '') return raw;
  if (url.password !== '') url.password = 'redacted';
  for (const name of [...url.searchParams.keys()]) if (SECRET_PARAM.test(name)) url.searchParams.set(name, '[redacted]');
  return url
    .toString()
    .replace(/%5Bredacted%5D/g, '[redacted]')
    .replace(/:redacted@/, ':[redacted]@');
}
