import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { VirtualServerRecord } from '../model/virtual-server.js';
import { MemoryStore } from '../registry/memory-store.js';
import { Registry } from '../registry/registry.js';
import type { FeedListener, RegistryFeed } from '../registry/types.js';
import { VirtualServers } from './virtual-servers.js';

const logger = pino({ level: 'silent' });

/**
 * A store shared with other gateways, as Postgres is: its feed tells of every write, this
 * gateway's own too, and here it does so before the write resolves (the notification can
 * overtake the writer's own answer).
 */
class SharedStore extends MemoryStore {
  #listener: FeedListener | undefined;
  readonly feed: RegistryFeed = {
    subscribe: async (listener) => {
      this.#listener = listener;
      return async () => {
        this.#listener = undefined;
      };
    },
  };

  override async putVirtualServer(record: VirtualServerRecord): Promise<void> {
    await super.putVirtualServer(record);
    this.#listener?.virtualServerChanged?.(record.name);
    // Long enough for the reload to read the store and replace the entry.
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function servers() {
  const store = new SharedStore();
  const registry = new Registry({ store, logger, configured: [], gatewayToken: 'token', limits: { probeIntervalMs: 0 } });
  await registry.start();
  const made = new VirtualServers({ registry, store, configured: [], logger });
  await made.start();
  stops.push(
    () => made.stop(),
    () => registry.close(),
  );
  return made;
}

describe('VirtualServers on a store with a change feed', () => {
  it("a replace is not refused when the feed's reload of its own write lands while it is stored", async () => {
    const made = await servers();
    await made.create({ name: 'desk', tools: [] });
    const replaced = await made.replace('desk', { tools: ['a__b'] });
    expect(replaced.record.tools).toEqual(['a__b']);
    expect(made.get('desk')?.record.tools).toEqual(['a__b']);
  });
});
