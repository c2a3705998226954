#!/usr/bin/env node
// `npm start`: runs the three services locally with prefixed, readable logs.
// Ctrl-C (SIGINT) or SIGTERM reaches every service, each shuts down cleanly, and this exits.
import concurrently from 'concurrently';

const color = process.stdout.isTTY ? { FORCE_COLOR: '1' } : {};
const env = { LOG_FORMAT: 'pretty', ...color };
const services = [
  { name: 'shopping-service', command: 'node packages/shopping-service/dist/main.js', prefixColor: 'cyan' },
  { name: 'user-service', command: 'node packages/user-service/dist/main.js', prefixColor: 'magenta' },
  { name: 'mcp-gateway', command: 'node --max-semi-space-size=8 --min-semi-space-size=8 packages/gateway/dist/main.js', prefixColor: 'green' },
];

const { result } = concurrently(
  services.map((service) => ({ ...service, env })),
  {
    prefix: 'name',
    padPrefix: true,
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
