/**
 * The `meshgate` command line: finds the command, parses its options with node:util
 * parseArgs (strict: an unknown option is a usage error), resolves the gateway URL and
 * token, runs the command and turns any failure into a message on stderr and an exit code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMMANDS, type CommandName, type Options, USAGE } from './commands/specs.js';
import type { Context, Io } from './context.js';
import { CliError, EXIT, redact, usageError } from './errors.js';
import { configFilePath, parseConfigFile, resolveTarget } from './options.js';

const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
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

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

function commandHelp(name: CommandName): string {
  return `${USAGE[name]}\n\n${COMMANDS[name].summary}\n`;
}

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
      if (topic !== undefined && !isCommand(topic)) throw usageError(`unknown command ${JSON.stringify(topic)}; meshgate help lists them`);
      io.stdout.write(topic === undefined ? HELP : commandHelp(topic));
      return name === undefined && !argv.includes('--help') && !argv.includes('-h') ? EXIT.usage : EXIT.ok;
    }
    if (!isCommand(name)) throw usageError(`unknown command ${JSON.stringify(name)}; meshgate help lists them`);
    const command = COMMANDS[name];
    const rest = [...argv.slice(0, index), ...argv.slice(index + 1)];
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    } catch (error) {
      throw usageError(`${(error as Error).message}\n\nUsage:\n${USAGE[name]}`);
    }
    const values = parsed.values as Record<string, unknown>;
    token = values['token'] as string | undefined;
    if (values['help'] === true) {
      io.stdout.write(commandHelp(name));
      return EXIT.ok;
    }
    const filePath = configFilePath(env);
    // `up` and `config check` talk to no gateway: a broken CLI config file must not stop them.
    const target = command.remote
      ? resolveTarget({ url: values['url'] as string | undefined, token }, env, parseConfigFile(readConfigText(filePath), filePath), filePath)
      : resolveTarget({}, {}, {}, filePath);
    token = target.token;
    const context: Context = { target, json: values['json'] === true, io, env };
    const code = await (await command.load())(context, parsed.positionals, values);
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
