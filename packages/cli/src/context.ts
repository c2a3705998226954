import type { Target } from './options.js';

/** Where a command writes: injectable, so tests can capture output without a process. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** What every command that talks to a gateway is given. */
export interface Context {
  target: Target;
  /** `--json`: one JSON document on stdout, for scripts; nothing else on stdout. */
  json: boolean;
  io: Io;
  env: NodeJS.ProcessEnv;
}

/** Prints `data` as JSON (with --json) or the text `human` renders. */
export function print(context: Context, data: unknown, human: () => string): void {
  context.io.stdout.write(context.json ? `${JSON.stringify(data, null, 2)}\n` : human());
}
