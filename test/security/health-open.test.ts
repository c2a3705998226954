/**
 * The open `/health` of the second hostile-input round (docs/security.md, "Round two",
 * the decision): the seed's `curl http://localhost:3001/health` sends no token and the
 * README shows its answer, so `/health` stays open with its shape: each service's name,
 * status, since when and tool count. The reason of a failure is an error message that can
 * name hosts and ports of the gateway's network: only a caller with a valid token sees it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, startGateway, TOKEN, tempDbPath } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

let gateway: StartedProcess;
beforeAll(async () => {
  const dbPath = tempDbPath();
  const config = join(dbPath, '..', 'meshgate.json');
  // Nothing listens there: the service is down with a reason.
  writeFileSync(config, JSON.stringify({ services: [{ name: 'absent', url: `http://127.0.0.1:${await freePort()}/mcp` }] }));
  gateway = await startGateway({ MESHGATE_CONFIG: config, MESHGATE_DB_PATH: dbPath });
});
afterAll(stopAll);

const health = async (headers: Record<string, string> = {}) => (await fetch(`${gateway.url}/health`, { headers })).json() as Promise<any>;

describe('open /health', () => {
  it('without a token: names, statuses and tool counts, no reasons', async () => {
    const open = await eventually('the service is down', async () => {
      const body = await health();
      return body.services.absent?.status === 'down' ? body : undefined;
    });
    expect(open).toMatchObject({ status: 'ok', service: 'mcp-gateway', services: { absent: { status: 'down', since: expect.any(String), tools: 0 } } });
    expect(open.services.absent.reason).toBeUndefined();
    expect(JSON.stringify(open)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  it('with a valid token: the reason too; a wrong token is treated as none', async () => {
    const detailed = await health({ authorization: `Bearer ${TOKEN}` });
    expect(detailed.services.absent.reason).toMatch(/connection refused/);
    const guessed = await health({ authorization: 'Bearer not-the-token' });
    expect(guessed.services.absent.reason).toBeUndefined();
  });
});
