#!/usr/bin/env node
// `npm start`: runs the three services locally with prefixed, readable logs.
// `LOG_FORMAT=json npm start` gives plain JSON lines instead, one object a line, for a log tool.
//
// A service that dies is restarted with capped exponential backoff while the others keep
// running: the gateway shows it `down`, serves the other services' calls, and reconnects by
// itself once it is back. Only a service whose very first run fails at once (a configuration
// mistake, a port in use) stops everything, as restarting it would only repeat the mistake.
// Ctrl-C (SIGINT) or SIGTERM reaches every service, each shuts down cleanly, and this exits.
//
// Ports: GATEWAY_PORT (3001), SHOPPING_SERVICE_PORT (3002), USER_SERVICE_PORT (3003); the
// gateway is pointed at the two services' ports unless SHOPPING_SERVICE_URL / USER_SERVICE_URL say otherwise.
import concurrently from 'concurrently';

// The services' stdout is a pipe here, so they would pick JSON by themselves: ask for pretty
// unless the caller chose a format (a bad one is refused by the services, in one line each).
const format = process.env.LOG_FORMAT || 'pretty';
const json = format === 'json';
const color = process.stdout.isTTY && !json ? { FORCE_COLOR: '1' } : {};
const env = { LOG_FORMAT: format, ...color };

const port = (name, fallback) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    console.error(`${name} must be a port number (1-65535), not ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return Number(value);
};
const ports = { gateway: port('GATEWAY_PORT', 3001), shopping: port('SHOPPING_SERVICE_PORT', 3002), user: port('USER_SERVICE_PORT', 3003) };

const services = [
  { name: 'shopping-service', command: 'node packages/shopping-service/dist/main.js', prefixColor: 'cyan', env: { PORT: String(ports.shopping) } },
  { name: 'user-service', command: 'node packages/user-service/dist/main.js', prefixColor: 'magenta', env: { PORT: String(ports.user) } },
  {
    name: 'mcp-gateway',
    command: 'node --max-semi-space-size=8 --min-semi-space-size=8 --heap-growing-percent=20 --no-allocation-site-pretenuring packages/gateway/dist/main.js',
    prefixColor: 'green',
    env: {
      PORT: String(ports.gateway),
      SHOPPING_SERVICE_URL: process.env.SHOPPING_SERVICE_URL || `http://localhost:${ports.shopping}/mcp`,
      USER_SERVICE_URL: process.env.USER_SERVICE_URL || `http://localhost:${ports.user}/mcp`,
    },
  },
];

/** Restart delays: doubling from the first, capped; a run this long counts as healthy and resets them. */
const FIRST_RESTART_MS = 500;
const MAX_RESTART_MS = 10_000;
const HEALTHY_RUN_MS = 10_000;
/** A first run that fails on its own within this is a mistake to fix, not a crash to restart. */
const FIRST_RUN_GRACE_MS = 5_000;

// Registered before concurrently's own signal handler, so no restart is scheduled once stopping.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (stopping = true));

/** One line of this script's own, in the format of the services' lines. */
const say = (level, msg, details = {}) => {
  if (json) console.log(JSON.stringify({ level, time: Date.now(), name: 'npm-start', msg, ...details }));
  else console.error(`[npm-start] ${msg}`);
};

const { result, commands } = concurrently(
  services.map((service) => ({ ...service, env: { ...env, ...service.env } })),
  {
    // JSON lines stay JSON: no name prefix (each line has its `name`) and no concurrently messages.
    ...(json ? { raw: true } : { prefix: 'name', padPrefix: true }),
    killSignal: 'SIGTERM',
  },
);

for (const command of commands) {
  let failures = 0;
  let runs = 0;
  let startedAt = Date.now();
  let timer;
  const onStop = () => clearTimeout(timer);
  process.once('SIGINT', onStop);
  process.once('SIGTERM', onStop);
  command.close.subscribe((event) => {
    runs += 1;
    if (stopping) return;
    const ranMs = Date.now() - startedAt;
    const code = event.exitCode;
    // Killed by a signal (named, or 128 + its number through the shell) is a crash, whatever its timing.
    const crashed = typeof code !== 'number' || code > 128;
    if (runs === 1 && ranMs < FIRST_RUN_GRACE_MS && !crashed && code !== 0) {
      say('error', `${command.name} failed to start (exit code ${code}); stopping everything`, { service: command.name, exitCode: code });
      stopping = true;
      for (const other of commands) if (other !== command) other.kill('SIGTERM');
      return;
    }
    failures = ranMs >= HEALTHY_RUN_MS ? 1 : failures + 1;
    const delay = Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** (failures - 1));
    say('warn', `${command.name} exited (${code}); restarting it in ${delay} ms`, { service: command.name, exitCode: code, restartInMs: delay });
    timer = setTimeout(() => {
      if (stopping) return;
      startedAt = Date.now();
      command.start();
    }, delay);
  });
}

result.then(
  () => process.exit(0),
  (events) => {
    const failed = events.filter((event) => event.exitCode !== 0 && event.exitCode !== 'SIGINT' && event.exitCode !== 'SIGTERM');
    for (const event of failed) console.error(`${event.command.name} exited with ${event.exitCode}`);
    process.exit(failed.length > 0 ? 1 : 0);
  },
);
