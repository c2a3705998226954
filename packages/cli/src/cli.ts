/**
 * The `meshgate` command line: finds the command, parses its options with node:util
 * parseArgs (strict: an unknown option is a usage error), resolves the gateway URL and
 * token, runs the command and turns any failure into a message on stderr and an exit code.
 */
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { audit, auditOptions } from './commands/audit.js';
import { CALL_USAGE, call, callOptions } from './commands/call.js';
import { CONFIG_USAGE, config } from './commands/config.js';
import { SERVICES_USAGE, services, servicesOptions } from './commands/services.js';
import { sessions } from './commands/sessions.js';
import { status } from './commands/status.js';
import { TOOLS_USAGE, tools } from './commands/tools.js';
import { UP_USAGE, up, upOptions } from './commands/up.js';
import { startBridge } from './connect.js';
import type { Context, Io } from './context.js';
import { CliError, EXIT, redact, usageError } from './errors.js';
import { configFilePath, parseConfigFile, resolveTarget } from './options.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

interface Command {
  summary: string;
  usage: string;
  options?: Options;
  /** Does it talk to a running gateway (and so need the URL and token)? */
  remote: boolean;
  run(context: Context, positionals: string[], values: Record<string, unknown>): Promise<unknown>;
}

const COMMANDS: Record<string, Command> = {
  up: { summary: 'run the gateway (--demo: with the seed services)', usage: UP_USAGE, options: upOptions, remote: false, run: up },
  status: { summary: 'is the gateway up, does it take the token, how are its services', usage: 'meshgate status', remote: true, run: status },
  services: { summary: 'list, show, add, update, remove services', usage: SERVICES_USAGE, options: servicesOptions, remote: true, run: services },
  tools: { summary: 'list the tools, show one', usage: TOOLS_USAGE, remote: true, run: tools },
  call: { summary: 'call a tool: meshgate call getProductById id=123', usage: CALL_USAGE, options: callOptions, remote: true, run: call },
  sessions: { summary: 'the open client sessions (admin)', usage: 'meshgate sessions', remote: true, run: sessions },
  audit: {
    summary: 'the audit log (admin)',
    usage: 'meshgate audit [--service S] [--tool T] [--identity I] [--since TIME] [--limit N]',
    options: auditOptions,
    remote: true,
    run: audit,
  },
  config: { summary: "check a gateway config file and the environment with the gateway's loader", usage: CONFIG_USAGE, remote: false, run: config },
  connect: {
    summary: 'a stdio MCP server relaying to the gateway (for clients that only launch stdio servers)',
    usage: 'meshgate connect',
    remote: true,
    run: async (context) => {
      const bridge = await startBridge(context);
      await bridge.closed;
    },
  },
};

export const HELP = `meshgate: run, inspect and call a Meshgate MCP gateway

Usage: meshgate <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(9)} ${command.summary}`)
  .join('\n')}
  help      this text; meshgate help <command> for one command

Options for every command that talks to a gateway:
  --url URL      the gateway (default http://localhost:3001; env MESHGATE_URL)
  --token TOKEN  its Bearer token (default mcp-token-123; env MESHGATE_TOKEN, then MCP_BEARER_TOKEN)
  --json         machine-readable output on stdout
  -h, --help     help

Config file: ~/.config/meshgate/cli.json ({"url": …, "token": …} or {"tokenEnv": "VAR"}),
or the file MESHGATE_CLI_CONFIG names. Flags beat the environment, which beats the file.

Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 cannot reach or authenticate to the gateway.
Docs: docs/cli.md in the Meshgate repository.
`;

/** The command's name: the first argument that is neither an option nor the value of --url or --token. */
export function commandName(argv: readonly string[]): { name: string | undefined; index: number } {
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    if (arg === '--url' || arg === '--token') index += 1;
    else if (!arg.startsWith('-')) return { name: arg, index };
  }
  return { name: undefined, index: -1 };
}

function readConfigText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw usageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function run(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  let token: string | undefined;
  try {
    const { name, index } = commandName(argv);
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? argv[index + 1] : undefined;
      const command = topic === undefined ? undefined : COMMANDS[topic];
      if (topic !== undefined && command === undefined) throw usageError(`unknown command ${JSON.stringify(topic)}; meshgate help lists them`);
      io.stdout.write(command === undefined ? HELP : `${command.usage}\n\n${command.summary}\n`);
      return name === undefined && !argv.includes('--help') && !argv.includes('-h') ? EXIT.usage : EXIT.ok;
    }
    const command = COMMANDS[name];
    if (command === undefined) throw usageError(`unknown command ${JSON.stringify(name)}; meshgate help lists them`);
    const rest = [...argv.slice(0, index), ...argv.slice(index + 1)];
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    } catch (error) {
      throw usageError(`${(error as Error).message}\n\nUsage:\n${command.usage}`);
    }
    const values = parsed.values as Record<string, unknown>;
    token = values['token'] as string | undefined;
    if (values['help'] === true) {
      io.stdout.write(`${command.usage}\n\n${command.summary}\n`);
      return EXIT.ok;
    }
    const filePath = configFilePath(env);
    // `up` and `config check` talk to no gateway: a broken CLI config file must not stop them.
    const target = command.remote
      ? resolveTarget({ url: values['url'] as string | undefined, token }, env, parseConfigFile(readConfigText(filePath), filePath), filePath)
      : resolveTarget({}, {}, {}, filePath);
    token = target.token;
    const context: Context = { target, json: values['json'] === true, io, env };
    const code = await command.run(context, parsed.positionals, values);
    return typeof code === 'number' ? code : EXIT.ok;
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`meshgate: ${redact(error.message, token)}\n`);
      return error.exitCode;
    }
    io.stderr.write(`meshgate: unexpected failure: ${redact(error instanceof Error ? error.message : String(error), token)}\n`);
    return EXIT.failed;
  }
}
