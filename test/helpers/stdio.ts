/** Helpers for tests of stdio services: the fixture server, the pids a gateway logged, process-group checks. */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from './process.js';

const resolve = createRequire(import.meta.url).resolve;
/** The bin JS files of the reference stdio servers, run with `process.execPath`. */
export const FILESYSTEM_BIN = resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
export const MEMORY_BIN = resolve('@modelcontextprotocol/server-memory/dist/index.js');
export const EVERYTHING_BIN = resolve('@modelcontextprotocol/server-everything/dist/index.js');
/** The repository's own stdio server (test/fixtures/stdio-fixture.mjs). */
export const STDIO_FIXTURE = join(REPO_ROOT, 'test/fixtures/stdio-fixture.mjs');

/** The process groups (guard pids) a gateway logged starting for `service`, oldest first. */
export function startedGroups(output: string, service: string): number[] {
  return output.split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { service?: string; childPid?: number; msg?: string };
      return entry.service === service && entry.msg?.startsWith('started the') && typeof entry.childPid === 'number' ? [entry.childPid] : [];
    } catch {
      return [];
    }
  });
}

/**
 * The state (R, S, Z...) and process group of every process, from /proc. A killed process
 * whose parent is gone stays a zombie until init reaps it (on some hosts over a second
 * later) and still answers signal 0, so "gone" here means "nothing left that runs".
 */
function processes(): { pid: number; state: string; pgid: number }[] {
  return readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [{ pid: Number(name), state: state ?? '', pgid: Number(pgid) }];
    } catch {
      return []; // ended while we looked
    }
  });
}

/** Whether any process of the group is still running (zombies do not count). */
export function groupAlive(pgid: number): boolean {
  return processes().some((entry) => entry.pgid === pgid && entry.state !== 'Z');
}

/** Whether the process is still running (a zombie does not count). */
export function processAlive(pid: number): boolean {
  return processes().some((entry) => entry.pid === pid && entry.state !== 'Z');
}
