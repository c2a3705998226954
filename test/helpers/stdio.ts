/** Helpers for tests of stdio services: the fixture server, the pids a gateway logged, process-group checks. */
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

/** Whether any process of the group is alive (signal 0 to -pgid checks without signalling). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether the process is alive. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
