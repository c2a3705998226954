import { readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Process-group facts shared by the supervisor, the guard and the pid file. Each command
 * runs in its own process group led by its guard (guard.ts), so one signal to `-pgid`
 * reaches the command and everything it started.
 */

const here = fileURLToPath(import.meta.url);
/**
 * The compiled guard program, beside this file; when this module runs from its TypeScript
 * source (unit tests), the guard still runs compiled, from dist/.
 */
export const GUARD_ENTRY = here.endsWith('.ts')
  ? join(dirname(here).replace(`${sep}src${sep}`, `${sep}dist${sep}`), 'guard.js')
  : join(dirname(here), 'guard.js');

/** How the guard's own stderr lines start. */
export const GUARD_PREFIX = 'meshgate-guard:';

/** Sends `signal` to every process of the group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  // -1 would mean every process we may signal, and 0 our own group: never.
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: nobody left (EPERM cannot happen for a group we started)
  }
}

/**
 * When the process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat),
 * with its command line: together they tell a process from a later one that got the same
 * pid. Undefined when there is no such process or no /proc (then nothing is ever killed
 * on its say-so).
 */
export function processIdentity(pid: number): { startTicks: string; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = fields[19]; // field 22 overall; fields[0] is field 3
    if (startTicks === undefined) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return { startTicks, cmdline };
  } catch {
    return undefined;
  }
}
