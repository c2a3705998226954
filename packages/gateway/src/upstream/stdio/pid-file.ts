import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { GUARD_ENTRY, processIdentity, signalGroup } from './process-group.js';

/** One process group the gateway started: its guard's pid (= the group id) and what identifies that process. */
export interface GroupEntry {
  pgid: number;
  service: string;
  /** /proc start time of the guard: a pid reused by an unrelated process has another. */
  startTicks: string;
}

/**
 * The pid file: which process groups this gateway runs, rewritten (atomically, by rename)
 * whenever one starts or ends. Its one use is the next start: a group a previous gateway
 * left (the guard itself was killed, or the machine's pid namespace outlived the gateway in
 * some way the guard could not see) is ended then. An entry is acted on only when its pid
 * is still the same guard process (same start time, the guard's command line): a pid that
 * an unrelated process reused is never signalled.
 */
export class PidFile {
  readonly #groups = new Map<number, GroupEntry>();

  /** @param guardEntry the guard program an entry's command line must name (tests give their own). */
  constructor(
    readonly path: string | undefined,
    readonly guardEntry: string = GUARD_ENTRY,
  ) {}

  /**
   * Ends the groups a previous gateway recorded that are still its guards, and clears the
   * file. Returns the entries it ended.
   */
  reapLeftovers(): GroupEntry[] {
    if (this.path === undefined) return [];
    let entries: GroupEntry[] = [];
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { groups?: unknown };
      if (Array.isArray(parsed.groups)) entries = parsed.groups.filter(isEntry);
    } catch {
      // No file (the usual case), or a torn one: nothing to act on safely.
    }
    const reaped = entries.filter((entry) => {
      const now = processIdentity(entry.pgid);
      if (now === undefined || now.startTicks !== entry.startTicks || !now.cmdline.includes(this.guardEntry)) return false;
      return signalGroup(entry.pgid, 'SIGKILL');
    });
    this.#write();
    return reaped;
  }

  /** Records a group that was just started. */
  add(pgid: number, service: string): void {
    const identity = processIdentity(pgid);
    this.#groups.set(pgid, { pgid, service, startTicks: identity?.startTicks ?? '' });
    this.#write();
  }

  /** Forgets a group that has ended. */
  remove(pgid: number): void {
    if (this.#groups.delete(pgid)) this.#write();
  }

  #write(): void {
    if (this.path === undefined) return;
    try {
      if (this.#groups.size === 0) {
        rmSync(this.path, { force: true });
        return;
      }
      const temporary = `${this.path}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify({ gatewayPid: process.pid, groups: [...this.#groups.values()] }), { mode: 0o600 });
      renameSync(temporary, this.path);
    } catch {
      // The pid file is a safety net; a read-only directory must not stop a service.
    }
  }
}

function isEntry(value: unknown): value is GroupEntry {
  const entry = value as Partial<GroupEntry> | null;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    Number.isInteger(entry.pgid) &&
    (entry.pgid ?? 0) > 1 &&
    typeof entry.startTicks === 'string' &&
    entry.startTicks !== ''
  );
}
