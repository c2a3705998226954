#!/usr/bin/env node
// `npm start`: runs the three services locally with prefixed, readable logs.
// `LOG_FORMAT=json npm start` gives plain JSON lines instead, one object a line, for a log tool.
// Ctrl-C (SIGINT) or SIGTERM reaches every service, each shuts down cleanly, and this exits.
import concurrently from 'concurrently';

// The services' stdout is a pipe here, so they would pick JSON by themselves: ask for pretty
// unless the caller chose a format (a bad one is refused by the services, in one line each).
const format = process.env.LOG_FORMAT || 'pretty';
const json = format === 'json';
const color = process.stdout.isTTY && !json ? { FORCE_COLOR: '1' } : {};
const env = { LOG_FORMAT: format, ...color };
const services = [
  { name: 'shopping-service', command: 'node packages/shopping-service/dist/main.js', prefixColor: 'cyan' },
  { name: 'user-service', command: 'node packages/user-service/dist/main.js', prefixColor: 'magenta' },
  { name: 'mcp-gateway', command: 'node --max-semi-space-size=8 --min-semi-space-size=8 packages/gateway/dist/main.js', prefixColor: 'green' },
];

const { result } = concurrently(
  services.map((service) => ({ ...service, env })),
  {
    // JSON lines stay JSON: no name prefix (each line has its `name`) and no concurrently messages.
    ...(json ? { raw: true } : { prefix: 'name', padPrefix: true }),
    // A service that crashes takes the others down with it, so nothing is left half-running.
    killOthersOn: ['failure'],
    killSignal: 'SIGTERM',
  },
);

result.then(
  () => process.exit(0),
  (events) => {
    const failed = events.filter((event) => event.exitCode !== 0 && event.exitCode !== 'SIGINT' && event.exitCode !== 'SIGTERM');
    for (const event of failed) console.error(`${event.command.name} exited with ${event.exitCode}`);
    process.exit(failed.length > 0 ? 1 : 0);
  },
);
