/**
 * Exit codes and the one error type commands throw. Every failure a person can fix is
 * worded as what to fix; the token is never part of a message (see `redact`).
 */

/** The exit codes of every command (docs/cli.md lists them). */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** The operation failed: the gateway refused it, a tool answered with an error, a config file is wrong. */
  failed: 1,
  /** The command line is wrong: an unknown command or option, a missing or mistyped argument. */
  usage: 2,
  /** The gateway cannot be reached, or refused the token (401) or its role (403). */
  unreachable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure with the exit code it ends the command with and a message saying what to fix. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(EXIT.usage, message);
export const failed = (message: string): CliError => new CliError(EXIT.failed, message);
export const unreachable = (message: string): CliError => new CliError(EXIT.unreachable, message);

/** Replaces every occurrence of `secret` in `text`: the last guard, so no message ever shows the token. */
export function redact(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length < 4) return text;
  return text.split(secret).join('***');
}

/** Why a fetch to `url` failed, in words: the cause's code (ECONNREFUSED, ENOTFOUND, …) when there is one. */
export function describeNetworkError(error: unknown, url: string): string | undefined {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const isFetchFailure = error instanceof TypeError && /fetch failed/i.test(error.message);
  if (!isFetchFailure && code === undefined) return undefined;
  const hints: Record<string, string> = {
    ECONNREFUSED: 'nothing is listening there: start the gateway (meshgate up, or npm start) or pass --url',
    ENOTFOUND: 'the host name does not resolve: check --url or MESHGATE_URL',
    ECONNRESET: 'the connection was reset: is that a Meshgate gateway?',
    ETIMEDOUT: 'the connection timed out: check the address and any firewall',
    UND_ERR_CONNECT_TIMEOUT: 'the connection timed out: check the address and any firewall',
  };
  const hint = code === undefined ? String((cause as { message?: unknown } | undefined)?.message ?? 'the request failed') : (hints[code] ?? code);
  return `Cannot reach the gateway at ${url}: ${hint}${code !== undefined && hints[code] !== undefined ? ` (${code})` : ''}`;
}
