/**
 * The guard: a tiny Node program the supervisor starts as the leader of a new process group,
 * which runs the service's command in that group with the guard's stdin, stdout and stderr
 * (the command reads and writes the gateway's pipes directly; the guard copies nothing).
 *
 *   node guard.js <gateway pid> <grace ms> <command> [args...]
 *
 * It exists for one case the gateway cannot handle itself: the gateway killed with SIGKILL.
 * A well-behaved server exits when its stdin closes, but many do not; the guard notices its
 * parent is gone (it is re-parented, so its ppid changes) and ends the whole group: SIGTERM,
 * then SIGKILL after the grace period. It also ends the group when the command exits, so a
 * server's own children do not outlive it. Its only output is one `meshgate-guard:` line on
 * stderr when the command cannot be started or has exited.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { GUARD_PREFIX } from './process-group.js';

const POLL_MS = 200;

const [parentArg, graceArg, command, ...args] = process.argv.slice(2);
const parent = Number(parentArg);
const graceMs = Number(graceArg);
if (!Number.isInteger(parent) || !Number.isFinite(graceMs) || command === undefined) {
  process.stderr.write(`${GUARD_PREFIX} usage: guard.js <parent pid> <grace ms> <command> [args...]\n`);
  process.exit(2);
}

/** Ends every process of the group, this guard last (SIGKILL cannot be caught). */
const killGroup = () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(1);
  }
};

let ending = false;
/** SIGTERM to the group now, SIGKILL to all of it after the grace period. */
const endGroup = () => {
  if (ending) return;
  ending = true;
  try {
    process.kill(-process.pid, 'SIGTERM'); // this guard ignores it (below)
  } catch {
    // the group is already empty but for us
  }
  setTimeout(killGroup, graceMs).unref();
};

// The supervisor's SIGTERM reaches the whole group: the command's own handling decides;
// the guard waits for it to exit, then clears what is left.
process.on('SIGTERM', endGroup);
process.on('SIGINT', endGroup);
process.on('SIGHUP', endGroup);

const child = spawn(command, args, { stdio: 'inherit' });
child.once('error', (error: NodeJS.ErrnoException) => {
  process.stderr.write(`${GUARD_PREFIX} cannot start ${JSON.stringify(command)}: ${error.code ?? error.message}\n`);
  process.exitCode = 127;
  killGroup();
});
child.once('exit', (code, signal) => {
  const how = signal === null ? `code ${code}` : `signal ${signal}`;
  process.stderr.write(`${GUARD_PREFIX} the command exited with ${how}\n`, () => killGroup());
  process.exitCode = code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
});

// Re-parented means the gateway is gone, however it died.
setInterval(() => {
  if (process.ppid !== parent) endGroup();
}, POLL_MS);
