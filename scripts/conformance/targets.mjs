/**
 * The two things the suite is run against: the conformance fixture on its own, and a
 * gateway federating it (next to shopping-service and user-service). Every process
 * runs on 127.0.0.1 with a free port and a throw-away database.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../lib/net.mjs';
import { startAuthProxy } from './auth-proxy.mjs';

export const GATEWAY_TOKEN = 'conformance-token';

/** Starts `node <entry>` and waits until its /health answers 200 (or `healthCheck` passes). */
async function startNode(root, name, entry, env, healthCheck) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [resolve(root, entry)], {
    cwd: root,
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('close', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited early (code ${child.exitCode}):\n${output.slice(-3000)}`);
    if (await (healthCheck ?? ok200)(url).catch(() => false)) return { name, url, stop, output: () => output };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not become healthy on ${url}:\n${output.slice(-3000)}`);
    }
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

async function ok200(url) {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
  await response.body?.cancel();
  return response.status === 200;
}

export function startFixture(root) {
  return startNode(root, 'conformance-fixture', 'packages/conformance-fixture/dist/main.js', {});
}

/**
 * Starts shopping-service, user-service and a gateway federating them and `fixtureUrl`,
 * then an auth proxy in front of the gateway. Resolves with the proxy's MCP URL.
 */
export async function startGatewayTarget(root, fixtureUrl, gatewayEntry) {
  const services = await Promise.all([
    startNode(root, 'shopping-service', 'packages/shopping-service/dist/main.js', { MCP_BEARER_TOKEN: GATEWAY_TOKEN }),
    startNode(root, 'user-service', 'packages/user-service/dist/main.js', { MCP_BEARER_TOKEN: GATEWAY_TOKEN }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-conformance-'));
  const config = join(dir, 'meshgate.json');
  writeFileSync(
    config,
    JSON.stringify({
      services: [
        { name: 'conformance', url: `${fixtureUrl}/mcp`, credential: { none: true } },
        { name: 'shopping-service', url: `${services[0].url}/mcp`, credential: { gateway: true } },
        { name: 'user-service', url: `${services[1].url}/mcp`, credential: { gateway: true } },
      ],
    }),
  );
  const allUp = async (url) => {
    const health = await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).json();
    return ['conformance', 'shopping-service', 'user-service'].every((name) => health.services?.[name]?.status === 'up');
  };
  const gateway = await startNode(
    root,
    'mcp-gateway',
    gatewayEntry,
    { MESHGATE_CONFIG: config, MESHGATE_DB_PATH: join(dir, 'meshgate.db'), MCP_BEARER_TOKEN: GATEWAY_TOKEN },
    allUp,
  );
  const proxy = await startAuthProxy(gateway.url, GATEWAY_TOKEN);
  return {
    url: `${proxy.url}/mcp`,
    gateway,
    stop: async () => {
      await proxy.close();
      await gateway.stop();
      await Promise.all(services.map((service) => service.stop()));
    },
  };
}
