/**
 * Where the gateway is and which token to send: flags, then the environment, then the
 * config file, then the defaults that reach the seed's gateway (`npm start`). Pure: the
 * caller reads the file and passes the environment, so tests need neither.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { usageError } from './errors.js';

/** The environment variables the CLI reads (the gateway's own are in packages/gateway/src/config/env.ts). */
export const CLI_ENV_VARS: Readonly<Record<string, string>> = {
  MESHGATE_URL: 'The gateway to talk to (default http://localhost:3001)',
  MESHGATE_TOKEN: 'The Bearer token to send (default: MCP_BEARER_TOKEN, then mcp-token-123)',
  MESHGATE_CLI_CONFIG: 'The CLI config file (default ~/.config/meshgate/cli.json)',
};

export const DEFAULT_URL = 'http://localhost:3001';
export const DEFAULT_TOKEN = 'mcp-token-123';

/** `~/.config/meshgate/cli.json`: every field optional. */
export const cliConfigSchema = z.strictObject({
  url: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  /** A variable holding the token, so the file need not hold the secret. */
  tokenEnv: z.string().min(1).optional(),
});
export type CliConfigFile = z.infer<typeof cliConfigSchema>;

/** Where the config file is: `MESHGATE_CLI_CONFIG`, else `$XDG_CONFIG_HOME/meshgate/cli.json`, else `~/.config/meshgate/cli.json`. */
export function configFilePath(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  if (env['MESHGATE_CLI_CONFIG']) return env['MESHGATE_CLI_CONFIG'];
  const base = env['XDG_CONFIG_HOME'] || join(home, '.config');
  return join(base, 'meshgate', 'cli.json');
}

/** Parses the config file's text (undefined: there is none). A broken file is a usage error naming it. */
export function parseConfigFile(text: string | undefined, path: string): CliConfigFile {
  if (text === undefined) return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw usageError(`${path} is not valid JSON; expected {"url": "http://localhost:3001", "token": "…"}`);
  }
  const parsed = cliConfigSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'file'}: ${issue.message}`).join('; ');
    throw usageError(`${path}: ${issues} (allowed: url, token, tokenEnv)`);
  }
  return parsed.data;
}

export interface Target {
  /** The gateway's base URL, without `/mcp` or a trailing slash. */
  url: string;
  /** The MCP endpoint: `<url>/mcp`. */
  mcpUrl: string;
  token: string;
  /** Where the URL and token came from, for `status` and error messages (never the token itself). */
  urlSource: string;
  tokenSource: string;
}

/** A base URL from what a person typed: `localhost:3001`, `http://host:3001/`, `http://host:3001/mcp` all mean the gateway at that host. */
export function normalizeUrl(raw: string, source: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw usageError(`${source} is not a URL: ${JSON.stringify(raw)}; expected something like http://localhost:3001`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`${source} must be an http or https URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw usageError(`${source} must not contain user:password; pass the token with --token or MESHGATE_TOKEN`);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/mcp$/, '');
  return `${url.origin}${path}`;
}

/** Resolves the gateway URL and token: flag, environment, config file, default. */
export function resolveTarget(
  flags: { url?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv,
  file: CliConfigFile,
  filePath: string,
): Target {
  const pick = (choices: Array<[string | undefined, string]>): [string | undefined, string] | undefined => {
    for (const [value, source] of choices) if (value !== undefined && value !== '') return [value, source];
    return undefined;
  };
  const fileTokenFromEnv = file.tokenEnv === undefined ? undefined : env[file.tokenEnv];
  const [rawUrl, urlSource] = pick([
    [flags.url, '--url'],
    [env['MESHGATE_URL'], 'MESHGATE_URL'],
    [file.url, filePath],
  ]) ?? [DEFAULT_URL, 'the default'];
  const [token, tokenSource] = pick([
    [flags.token, '--token'],
    [env['MESHGATE_TOKEN'], 'MESHGATE_TOKEN'],
    [env['MCP_BEARER_TOKEN'], 'MCP_BEARER_TOKEN'],
    [fileTokenFromEnv, `${file.tokenEnv} (named in ${filePath})`],
    [file.token, filePath],
  ]) ?? [undefined, 'the default token'];
  // A file that names a variable means that token: falling back to the default would hide the mistake.
  if (token === undefined && file.tokenEnv !== undefined) throw usageError(`${filePath} names tokenEnv ${file.tokenEnv}, but that variable is not set`);
  const url = normalizeUrl(rawUrl ?? DEFAULT_URL, urlSource);
  return { url, mcpUrl: `${url}/mcp`, token: token ?? DEFAULT_TOKEN, urlSource, tokenSource };
}
