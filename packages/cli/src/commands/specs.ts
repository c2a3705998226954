/**
 * What the command line knows of each command before running it: summary, usage and
 * options. The implementations are imported only when their command runs, so `--help`
 * and the REST commands do not pay for loading the MCP SDK.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Context } from '../context.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The filters `GET /audit` takes, passed as query parameters of the same names. */
export const AUDIT_FILTERS = ['service', 'tool', 'identity', 'since', 'limit'] as const;

export const USAGE = {
  up: 'meshgate up [--demo [--shopping-port N] [--user-port N]] [--port N]',
  status: 'meshgate status',
  services: `meshgate services list
meshgate services show <name>
meshgate services add <name> <url> [--bearer-env VAR | --credential JSON]
meshgate services update <name> [--to URL] [--bearer-env VAR | --credential JSON]
meshgate services remove <name>`,
  tools: `meshgate tools list
meshgate tools show <tool>`,
  call: `meshgate call <tool> [key=value ...] [--timeout MS]
meshgate call <tool> '{"key": "value"}'`,
  sessions: 'meshgate sessions',
  servers: 'meshgate servers',
  audit: 'meshgate audit [--service S] [--tool T] [--identity I] [--since TIME] [--limit N]',
  config: 'meshgate config check [file]',
  connect: 'meshgate connect',
} as const;

export type CommandName = keyof typeof USAGE;

export interface CommandSpec {
  summary: string;
  options?: Options;
  /** Does it talk to a running gateway (and so need the URL and token)? */
  remote: boolean;
  load(): Promise<(context: Context, positionals: string[], values: Record<string, unknown>) => Promise<unknown>>;
}

export const COMMANDS: Record<CommandName, CommandSpec> = {
  up: {
    summary: 'run the gateway (--demo: with the seed services)',
    options: { demo: { type: 'boolean' }, port: { type: 'string' }, 'shopping-port': { type: 'string' }, 'user-port': { type: 'string' } },
    remote: false,
    load: async () => (await import('./up.js')).up,
  },
  status: {
    summary: 'is the gateway up, does it take the token, how are its services',
    remote: true,
    load: async () => (await import('./status.js')).status,
  },
  services: {
    summary: 'list, show, add, update, remove services',
    // Not --url for the new address: that one names the gateway.
    options: { credential: { type: 'string' }, 'bearer-env': { type: 'string' }, to: { type: 'string' } },
    remote: true,
    load: async () => (await import('./services.js')).services,
  },
  tools: { summary: 'list the tools, show one', remote: true, load: async () => (await import('./tools.js')).tools },
  call: {
    summary: 'call a tool: meshgate call getProductById id=123',
    options: { timeout: { type: 'string' } },
    remote: true,
    load: async () => (await import('./call.js')).call,
  },
  sessions: { summary: 'the open client sessions (admin)', remote: true, load: async () => (await import('./sessions.js')).sessions },
  servers: {
    summary: 'the virtual servers: endpoint, mode, tools served',
    remote: true,
    load: async () => (await import('./servers.js')).servers,
  },
  audit: {
    summary: 'the audit log (admin)',
    options: Object.fromEntries(AUDIT_FILTERS.map((name) => [name, { type: 'string' as const }])),
    remote: true,
    load: async () => (await import('./audit.js')).audit,
  },
  config: {
    summary: "check a gateway config file and the environment with the gateway's loader",
    remote: false,
    load: async () => (await import('./config.js')).config,
  },
  connect: {
    summary: 'a stdio MCP server relaying to the gateway (for clients that only launch stdio servers)',
    remote: true,
    load: async () => (await import('./connect.js')).connect,
  },
};
