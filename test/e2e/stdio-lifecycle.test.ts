/**
 * The lives of stdio service processes: a crash loop leaves nothing behind, a gateway killed
 * with SIGKILL leaves nothing behind (not even a server that ignores SIGTERM and the end of
 * its stdin), `per-session` services give each MCP session its own process and end it with
 * the session, and registering a command is off by default and admin-only when enabled.
 * The process groups are learnt from the gateway's log; "gone" is checked with signal 0.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, describe, expect, it } from 'vitest';
import { api, eventually, rpc, startGateway, TOKEN, tempDbPath, waitUntilUp } from '../helpers/mesh.js';
import { stopAll } from '../helpers/process.js';
import { EVERYTHING_BIN, groupAlive, processAlive, STDIO_FIXTURE, startedGroups } from '../helpers/stdio.js';

const node = process.execPath;

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'meshgate-stdio-life-')), 'meshgate.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const textOf = (answer: { body: { result?: { content: { text: string }[] }; error?: unknown } }) => {
  if (answer.body.result === undefined) throw new Error(`no result: ${JSON.stringify(answer.body)}`);
  return answer.body.result.content[0]?.text ?? '';
};

afterAll(async () => {
  await stopAll();
});

describe('a crash loop', () => {
  it('restarts with backoff many times, keeps other services up, and leaves no process behind', async () => {
    const dbPath = tempDbPath();
    const gateway = await startGateway({
      MESHGATE_DB_PATH: dbPath,
      MESHGATE_CONFIG: configFile({
        services: [
          { name: 'steady', command: node, args: [STDIO_FIXTURE] },
          { name: 'crasher', command: node, args: [STDIO_FIXTURE, '--crash-after-ms', '150'] },
        ],
      }),
    });
    await waitUntilUp(gateway.url, ['steady']);
    const groups = await eventually(
      '20 starts of the crashing service',
      async () => {
        const started = startedGroups(gateway.output(), 'crasher');
        return started.length >= 15 ? started : undefined;
      },
      60_000,
    );
    // Every process but the newest has ended, guard and all.
    await eventually('every earlier crasher process group gone', async () => groups.slice(0, -1).every((group) => !groupAlive(group)));
    expect(gateway.output()).toMatch(/crashes":\d+,"restartInMs":500/); // the backoff reached its cap
    expect(textOf(await rpc(gateway.url, 'tools/call', { name: 'pid', arguments: {} }))).toContain('pid');
    expect(await gateway.stop()).toBe(0);
    // SIGKILL reached every group before the gateway exited; the kernel takes a moment to end them.
    const everyGroup = [...startedGroups(gateway.output(), 'crasher'), ...startedGroups(gateway.output(), 'steady')];
    await eventually('every process group to be gone', async () => everyGroup.every((group) => !groupAlive(group)), 5_000);
    expect(existsSync(`${dbPath}.stdio-pids`)).toBe(false); // nothing left to record
  }, 90_000);
});

describe('the gateway killed with SIGKILL', () => {
  it('leaves no child process behind, even one that ignores SIGTERM and the end of its stdin', async () => {
    const dbPath = tempDbPath();
    const gateway = await startGateway({
      MESHGATE_DB_PATH: dbPath,
      MESHGATE_CONFIG: configFile({
        services: [
          { name: 'stubborn', command: node, args: [STDIO_FIXTURE, '--stubborn'] },
          { name: 'everything', command: node, args: [EVERYTHING_BIN, 'stdio'] },
        ],
      }),
    });
    await waitUntilUp(gateway.url, ['stubborn', 'everything']);
    const { pid } = JSON.parse(textOf(await rpc(gateway.url, 'tools/call', { name: 'pid', arguments: {} }))) as { pid: number };
    const groups = [...startedGroups(gateway.output(), 'stubborn'), ...startedGroups(gateway.output(), 'everything')];
    expect(groups).toHaveLength(2);
    expect(existsSync(`${dbPath}.stdio-pids`)).toBe(true);
    expect(groups.every(groupAlive) && processAlive(pid)).toBe(true);

    await gateway.kill();
    // The guards see their parent gone: SIGTERM to their groups, SIGKILL after the 5 s grace.
    await eventually('every stdio process gone', async () => !processAlive(pid) && groups.every((group) => !groupAlive(group)), 20_000);

    // A new gateway on the same database finds the pid file, checks each entry, and starts clean.
    const again = await startGateway({ MESHGATE_DB_PATH: dbPath, MESHGATE_CONFIG: configFile({ services: [] }) });
    await eventually('the stale pid file cleared', async () => !existsSync(`${dbPath}.stdio-pids`));
    expect(again.output()).not.toContain('left by a previous gateway'); // the guards had already done it
    await again.stop();
  }, 60_000);
});

describe('a per-session stdio service', () => {
  it('gives each MCP session its own process, keeps it for the session, replaces it after a crash without taking the service down, and ends it with the session', async () => {
    const gateway = await startGateway({
      MESHGATE_CONFIG: configFile({ services: [{ name: 'per', command: node, args: [STDIO_FIXTURE], stdio: 'per-session' }] }),
    });
    await waitUntilUp(gateway.url, ['per']);
    const connect = async () => {
      const client = new Client({ name: 'per-session', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } });
      await client.connect(transport);
      const pid = async () => {
        const result = await client.callTool({ name: 'pid', arguments: {} });
        return (JSON.parse((result.content as { text: string }[])[0]?.text ?? '{}') as { pid: number }).pid;
      };
      return { client, transport, pid };
    };
    const shared = (JSON.parse(textOf(await rpc(gateway.url, 'tools/call', { name: 'pid', arguments: {} }))) as { pid: number }).pid;
    const one = await connect();
    const two = await connect();
    const first = await one.pid();
    expect(await one.pid()).toBe(first); // the same process for the session's every call
    const second = await two.pid();
    expect(new Set([shared, first, second]).size).toBe(3);

    // A session's process that dies fails only that session's call; its next call gets a new process.
    const crashed = await one.client.callTool({ name: 'exit', arguments: { code: 9 } }).catch((error: Error) => error);
    expect(crashed).toBeInstanceOf(Error);
    expect((crashed as Error).message).toMatch(/The process of service "per" for this session ended \(.*exited with code 9\); the next call starts a new one/);
    expect((await api(gateway.url, 'GET', '/services/per')).body.status).toBe('up');
    const restarted = await eventually('a new process for session one', async () => one.pid().catch(() => undefined));
    expect(new Set([shared, first, second, restarted]).size).toBe(4);
    expect(await two.pid()).toBe(second);

    await one.transport.terminateSession(); // DELETE /mcp: the session closes, and its process with it
    await eventually("session one's process gone", async () => !processAlive(restarted));
    expect(processAlive(second) && processAlive(shared)).toBe(true);
    expect(await two.pid()).toBe(second);
    await one.client.close();
    await two.client.close();
    await gateway.stop();
    await eventually('every stdio process gone after shutdown', async () => !processAlive(second) && !processAlive(shared), 5_000);
  }, 60_000);
});

describe('registering a command over POST /register', () => {
  const body = { name: 'cmd', command: node, args: [STDIO_FIXTURE], env: { CMD_SECRET: 'value-not-shown' } };

  it('is refused by default, naming the setting, and starts nothing', async () => {
    const gateway = await startGateway({ MESHGATE_CONFIG: configFile({ services: [] }) });
    const answer = await api(gateway.url, 'POST', '/register', body);
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ error: 'stdio_registration_disabled', message: expect.stringContaining('MESHGATE_ALLOW_STDIO_REGISTRATION=true') });
    expect((await api(gateway.url, 'GET', '/services')).body.services).toEqual([]);
    expect(startedGroups(gateway.output(), 'cmd')).toEqual([]);
    await gateway.stop();
  });

  it('with the setting on, is refused to a client token and allowed to an admin, survives a restart, and deregistering ends the process', async () => {
    const dbPath = tempDbPath();
    const config = configFile({
      services: [],
      tokens: [
        { name: 'ops', token: 'admin-token-1', roles: ['admin', 'client'] },
        { name: 'app', token: 'client-token-1', roles: ['client'] },
      ],
    });
    const env = { MESHGATE_DB_PATH: dbPath, MESHGATE_CONFIG: config, MESHGATE_ALLOW_STDIO_REGISTRATION: 'true' };
    let gateway = await startGateway(env);
    const refused = await api(gateway.url, 'POST', '/register', body, 'client-token-1');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('forbidden');
    for (const bad of [
      { ...body, url: 'http://127.0.0.1:1/mcp' },
      { ...body, credential: { none: true } },
      { name: 'cmd', url: 'http://127.0.0.1:1/mcp', args: ['x'] },
      { ...body, stdio: 'sometimes' },
    ]) {
      const answer = await api(gateway.url, 'POST', '/register', bad, 'admin-token-1');
      expect([answer.status, answer.body.error], JSON.stringify(bad)).toEqual([400, 'invalid_body']);
    }
    const registered = await api(gateway.url, 'POST', '/register', body, 'admin-token-1');
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect(registered.body).toMatchObject({
      name: 'cmd',
      status: 'up',
      command: { command: node, args: [STDIO_FIXTURE], envNames: ['CMD_SECRET'], stdio: 'shared' },
    });
    expect(JSON.stringify(registered.body)).not.toContain('value-not-shown');
    const envAnswer = await rpc(gateway.url, 'tools/call', { name: 'env', arguments: {} }, { token: 'client-token-1' });
    expect(JSON.parse(textOf(envAnswer))).toMatchObject({ CMD_SECRET: 'value-not-shown' });

    await gateway.stop();
    gateway = await startGateway(env);
    await waitUntilUp(gateway.url, ['cmd']);
    const [group] = startedGroups(gateway.output(), 'cmd');
    expect(group !== undefined && groupAlive(group)).toBe(true);
    expect((await api(gateway.url, 'DELETE', '/services/cmd', undefined, 'admin-token-1')).status).toBe(204);
    await eventually('the deregistered service process gone', async () => !groupAlive(group as number));
    await gateway.stop();
  }, 60_000);
});
