import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, startProcess } from './process.js';

describe('test process helpers', () => {
  it('freePort returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it('startProcess refuses an entry that does not exist and says to build first', async () => {
    await expect(startProcess({ entry: 'packages/nowhere/dist/main.js', name: 'nowhere' })).rejects.toThrow(/build first/);
  });
});
