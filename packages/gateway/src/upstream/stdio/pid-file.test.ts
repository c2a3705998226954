/**
 * The pid file on real processes: what a previous gateway left is ended on the next start,
 * and an entry whose pid now belongs to something else is never signalled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { groupAlive } from '../../../../../test/helpers/stdio.js';
import { PidFile } from './pid-file.js';
import { GUARD_ENTRY, processIdentity } from './process-group.js';

const started: ChildProcess[] = [];
const path = () => join(mkdtempSync(join(tmpdir(), 'meshgate-pids-')), 'meshgate.db.stdio-pids');

/** A guard in its own process group running a process that never ends, as a gateway would start it (parent: this test). */
function guardedSleeper(): number {
  const child = spawn(process.execPath, [GUARD_ENTRY, String(process.pid), '1000', process.execPath, '-e', 'setInterval(() => {}, 1000)'], {
    detached: true,
    stdio: 'ignore',
  });
  started.push(child);
  return child.pid as number;
}

/** An unrelated process in its own group: not a guard. */
function stranger(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  started.push(child);
  return child.pid as number;
}

afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already ended (the reaping test ends its own)
    }
  }
});

describe('PidFile', () => {
  it('records started groups and removes the file when none is left', () => {
    const file = path();
    const pids = new PidFile(file);
    const pgid = guardedSleeper();
    pids.add(pgid, 'svc');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      gatewayPid: process.pid,
      groups: [{ pgid, service: 'svc', startTicks: expect.any(String) }],
    });
    pids.remove(pgid);
    expect(existsSync(file)).toBe(false);
  });

  it("ends, on the next start, the groups a previous gateway's file names that are still its guards", async () => {
    const file = path();
    const pgid = guardedSleeper();
    new PidFile(file).add(pgid, 'svc'); // the previous gateway, gone without cleaning up
    expect(groupAlive(pgid)).toBe(true);
    const reaped = new PidFile(file).reapLeftovers();
    expect(reaped.map((entry) => entry.pgid)).toEqual([pgid]);
    expect(existsSync(file)).toBe(false);
    await vi.waitFor(() => expect(groupAlive(pgid)).toBe(false), { timeout: 5_000 });
  });

  it('never signals a pid that is not the recorded guard: another command line, or another start time', () => {
    const file = path();
    const other = stranger();
    const guard = guardedSleeper();
    const identity = processIdentity(other);
    expect(identity).toBeDefined();
    writeFileSync(
      file,
      JSON.stringify({
        groups: [
          { pgid: other, service: 'a', startTicks: identity?.startTicks }, // same start time, but not a guard
          { pgid: guard, service: 'b', startTicks: '1' }, // a guard, but not the one recorded
          { pgid: 1, service: 'c', startTicks: processIdentity(1)?.startTicks ?? '1' }, // never init
        ],
      }),
    );
    expect(new PidFile(file).reapLeftovers()).toEqual([]);
    expect(groupAlive(other) && groupAlive(guard)).toBe(true);
  });

  it('ignores a torn or foreign file', () => {
    const file = path();
    writeFileSync(file, '{"groups": [{"pgid": ');
    expect(new PidFile(file).reapLeftovers()).toEqual([]);
  });
});
