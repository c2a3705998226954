import type { Tool } from '@modelcontextprotocol/server';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { definitionDigest, type ToolPin } from '../model/pins.js';
import type { ServiceRecord } from '../model/service.js';
import type { CommandTransports } from '../upstream/stdio/index.js';
import type { TransportFactory, UpstreamTransport } from '../upstream/transport.js';
import { MemoryStore } from './memory-store.js';
import { Registry } from './registry.js';
import type { FeedListener, RegistryFeed, ServiceGuard } from './types.js';

/** Services by URL: each lists these tool names, or refuses to connect when absent. */
type Backends = Map<string, string[]>;

/** Transports that answer from `backends`, so the registry runs without sockets. */
function transportsFor(backends: Backends): TransportFactory {
  return (options) => {
    const transport: UpstreamTransport = {
      start: async () => {
        if (!backends.has(options.url)) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } };
      },
      request: async (method) => {
        if (method !== 'tools/list') return {};
        return { tools: (backends.get(options.url) ?? []).map((name) => ({ name, inputSchema: { type: 'object' } })) };
      },
      notify: () => undefined,
      close: async () => undefined,
    };
    return transport;
  };
}

/** `transportsFor(backends)` with `before(url, method)` run ahead of every request: it may wait, or throw to fail the request. */
function intercepted(backends: Backends, before: (url: string, method: string) => Promise<void> | void): TransportFactory {
  const plain = transportsFor(backends);
  return (options, events) => {
    const transport = plain(options, events);
    return {
      ...transport,
      request: async (method, params, requestOptions) => {
        await before(options.url, method);
        return transport.request(method, params, requestOptions);
      },
    };
  };
}

const logger = pino({ level: 'silent' });
const now = new Date(0).toISOString();
const configured = (name: string, url: string): ServiceRecord => ({
  name,
  url,
  source: 'config',
  credential: { type: 'none' },
  createdAt: now,
  updatedAt: now,
});
const registries: Registry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((registry) => registry.close()));
});

function registry(backends: Backends, services: ServiceRecord[] = [], store = new MemoryStore(), stdio?: CommandTransports) {
  const made = new Registry({
    store,
    logger,
    configured: services,
    gatewayToken: 'token',
    limits: { probeIntervalMs: 0, retryMinMs: 5, retryMaxMs: 20 },
    transportFactory: transportsFor(backends),
    ...(stdio === undefined ? {} : { stdio }),
  });
  registries.push(made);
  return { registry: made, store };
}

const names = (r: Registry) => r.catalog.tools.items.map((tool) => tool.name);

describe('Registry with command services', () => {
  const command = { command: 'mcp-thing', args: ['--flag'], env: { KEY: 'v' }, stdio: 'shared' as const };

  it("connects a command service through the stdio runner's factory for its command, and stores the command", async () => {
    const asked: unknown[] = [];
    // The runner hands out a transport listing one tool; the URL the connection sees is the command's label.
    const stdio: CommandTransports = {
      factoryFor: (service, spec) => {
        asked.push([service, spec]);
        return transportsFor(new Map([['stdio:mcp-thing', ['local']]]));
      },
    };
    const { registry: r, store } = registry(new Map(), [], new MemoryStore(), stdio);
    await r.start();
    const service = await r.register({ name: 'cmd', command, credential: { type: 'none' } });
    expect(asked).toEqual([['cmd', command]]);
    expect(service.connection.url).toBe('stdio:mcp-thing');
    expect(names(r)).toEqual(['local']);
    expect(await store.listServices()).toMatchObject([{ name: 'cmd', command, source: 'registered' }]);
    expect((await store.listServices())[0]?.url).toBeUndefined();
    await expect(r.update('cmd', { url: 'http://x/mcp' })).rejects.toMatchObject({ code: 'invalid_body', message: expect.stringContaining('runs a command') });
  });

  it('without a stdio runner, a command service stays down saying why', async () => {
    const { registry: r } = registry(new Map(), [{ name: 'cmd', command, source: 'config', credential: { type: 'none' }, createdAt: now, updatedAt: now }]);
    await r.start();
    await vi.waitFor(() => expect(r.get('cmd')?.connection.lastError).toMatch(/started without a stdio runner/));
    expect(r.get('cmd')?.connection.status).toBe('down');
  });
});

describe('Registry', () => {
  it('federates configured services in order, a clash qualified, and tells listeners which lists changed', async () => {
    const backends: Backends = new Map([
      ['http://a/mcp', ['find', 'buy']],
      ['http://b/mcp', ['find']],
    ]);
    const { registry: r } = registry(backends, [configured('a', 'http://a/mcp'), configured('b', 'http://b/mcp')]);
    const changes: string[][] = [];
    r.onCatalogChange((_catalog, changed) => changes.push([...changed]));
    await r.start();
    await vi.waitFor(() => expect(names(r)).toEqual(['find', 'buy', 'b__find']));
    expect(changes.at(-1)).toEqual(['tools']);
    expect(r.catalog.clashes).toMatchObject([{ kind: 'tool', name: 'find', owner: 'a', service: 'b', exposedAs: 'b__find' }]);
  });

  it('a registration connects and lists before it is stored; one that cannot connect leaves nothing behind', async () => {
    const backends: Backends = new Map([['http://ok/mcp', ['hello']]]);
    const { registry: r, store } = registry(backends);
    await r.start();
    await expect(r.register({ name: 'down', url: 'http://nowhere/mcp', credential: { type: 'none' } })).rejects.toMatchObject({ code: 'upstream_unreachable' });
    expect(await store.listServices()).toEqual([]);
    expect(r.get('down')).toBeUndefined();
    await r.register({ name: 'ok', url: 'http://ok/mcp', credential: { type: 'none' } });
    expect((await store.listServices()).map((record) => record.name)).toEqual(['ok']);
    expect(names(r)).toEqual(['hello']);
    await expect(r.register({ name: 'ok', url: 'http://ok/mcp', credential: { type: 'none' } })).rejects.toMatchObject({ code: 'service_exists' });
  });

  it('a configured service cannot be changed or removed through the API; a registered one is removed with its tools', async () => {
    const backends: Backends = new Map([
      ['http://a/mcp', ['one']],
      ['http://r/mcp', ['two']],
    ]);
    const { registry: r, store } = registry(backends, [configured('a', 'http://a/mcp')]);
    await r.start();
    // A configured service connects in the background: wait until it is listed.
    await vi.waitFor(() => expect(names(r)).toEqual(['one']));
    await r.register({ name: 'r', url: 'http://r/mcp', credential: { type: 'none' } });
    await expect(r.deregister('a')).rejects.toMatchObject({ code: 'invalid_body' });
    await expect(r.update('a', { url: 'http://r/mcp' })).rejects.toMatchObject({ code: 'invalid_body' });
    await r.deregister('r');
    expect(names(r)).toEqual(['one']);
    expect(await store.listServices()).toEqual([]);
    await expect(r.deregister('r')).rejects.toMatchObject({ code: 'unknown_service' });
  });

  it('serves the last catalog seen while a service is away, across a restart of the registry', async () => {
    const backends: Backends = new Map([['http://a/mcp', ['kept']]]);
    const first = registry(backends, [configured('a', 'http://a/mcp')]);
    await first.registry.start();
    await vi.waitFor(() => expect(names(first.registry)).toEqual(['kept']));
    await first.registry.close();
    backends.delete('http://a/mcp');
    const { registry: second } = registry(backends, [configured('a', 'http://a/mcp')], first.store);
    await second.start();
    expect(names(second)).toEqual(['kept']);
    expect(Registry.listingsOf(second.get('a')!).origin).toBe('fallback');
  });
});

describe('Registry rebuilds', () => {
  it('a service turning degraded and back keeps the very same catalog (nothing rebuilt, no change told); new listings rebuild it', async () => {
    const backends: Backends = new Map([
      ['http://a/mcp', ['find']],
      ['http://b/mcp', ['buy']],
    ]);
    let failPing = false;
    // Once failPing is set, service b misses one health probe (degraded), then answers (up again).
    const factory = intercepted(backends, (url, method) => {
      if (method === 'ping' && url === 'http://b/mcp' && failPing) {
        failPing = false;
        throw new Error('no answer to ping');
      }
    });
    const r = new Registry({
      store: new MemoryStore(),
      logger,
      configured: [configured('a', 'http://a/mcp'), configured('b', 'http://b/mcp')],
      gatewayToken: 'token',
      limits: { probeIntervalMs: 20, retryMinMs: 5, retryMaxMs: 20 },
      transportFactory: factory,
    });
    registries.push(r);
    const statuses: string[] = [];
    r.onStatusChange((service, status) => statuses.push(`${service}:${status}`));
    await r.start();
    await vi.waitFor(() => expect(names(r)).toEqual(['find', 'buy']), { timeout: 10_000 });
    const built = r.catalog;
    const changes: string[][] = [];
    r.onCatalogChange((_catalog, changed) => changes.push([...changed]));
    expect(statuses).not.toContain('b:degraded');
    failPing = true;
    // Degraded, then up again after it.
    await vi.waitFor(
      () => {
        const degraded = statuses.indexOf('b:degraded');
        expect(degraded).toBeGreaterThan(-1);
        expect(statuses.indexOf('b:up', degraded + 1)).toBeGreaterThan(degraded);
      },
      { timeout: 10_000 },
    );
    expect(r.catalog).toBe(built);
    expect(changes).toEqual([]);

    // New listings from a service are a new input: the catalog is built again and the change told.
    backends.set('http://a/mcp', ['find', 'sell']);
    r.get('a')?.connection.scheduleRefresh(0);
    await vi.waitFor(() => expect(names(r)).toEqual(['find', 'sell', 'buy']), { timeout: 10_000 });
    expect(r.catalog).not.toBe(built);
    expect(changes).toEqual([['tools']]);
  });
});

/** A memory store several registries share, with a feed that tells every subscriber of every write (as the Postgres trigger does). */
class SharedMemoryStore extends MemoryStore {
  readonly listeners = new Set<FeedListener>();
  readonly feed: RegistryFeed = {
    subscribe: async (listener) => {
      this.listeners.add(listener);
      return async () => void this.listeners.delete(listener);
    },
  };
  override async putService(record: ServiceRecord, guard?: ServiceGuard): Promise<boolean> {
    const written = await super.putService(record, guard);
    if (written) for (const listener of this.listeners) listener.changed(record.name);
    return written;
  }
  override async deleteService(name: string): Promise<boolean> {
    const deleted = await super.deleteService(name);
    for (const listener of this.listeners) listener.changed(name);
    return deleted;
  }
  override async putPins(pins: readonly ToolPin[]): Promise<void> {
    await super.putPins(pins);
    for (const service of new Set(pins.map((pin) => pin.service))) for (const listener of this.listeners) listener.pinsChanged?.(service);
  }
  /** A write nobody hears (a notification lost while a listener was away). */
  async putQuietly(record: ServiceRecord): Promise<void> {
    await super.putService(record);
  }
}

describe('Registry following its store’s change feed', () => {
  const backends: Backends = new Map([
    ['http://a.test/mcp', ['alpha']],
    ['http://b.test/mcp', ['beta']],
  ]);
  const until = async (check: () => boolean) => vi.waitFor(() => expect(check()).toBe(true), { timeout: 2_000, interval: 5 });

  it('connects what another registry registered, reconnects what it updated, and drops what it deregistered', async () => {
    const store = new SharedMemoryStore();
    const { registry: one } = registry(backends, [], store);
    const { registry: two } = registry(backends, [], store);
    await Promise.all([one.start(), two.start()]);
    await one.register({ name: 'svc', url: 'http://a.test/mcp', credential: { type: 'none' } });
    await until(() => names(two).includes('alpha'));
    await two.update('svc', { url: 'http://b.test/mcp' });
    await until(() => names(one).includes('beta') && !names(one).includes('alpha'));
    expect(one.get('svc')?.record.url).toBe('http://b.test/mcp');
    await one.deregister('svc');
    await until(() => two.get('svc') === undefined && names(two).length === 0);
  });

  it('refuses a registration of a name another registry on the store took, and an update from a stale view', async () => {
    const store = new SharedMemoryStore();
    const { registry: one } = registry(backends, [], store);
    const { registry: two } = registry(backends, [], store);
    await Promise.all([one.start(), two.start()]);
    store.listeners.clear(); // neither hears the other: only the store's compare-and-set stands between them
    await one.register({ name: 'svc', url: 'http://a.test/mcp', credential: { type: 'none' } });
    await expect(two.register({ name: 'svc', url: 'http://b.test/mcp', credential: { type: 'none' } })).rejects.toMatchObject({ code: 'service_exists' });
    await two.reconcile();
    await one.update('svc', { url: 'http://b.test/mcp' });
    await expect(two.update('svc', { url: 'http://a.test/mcp' })).rejects.toMatchObject({ code: 'service_exists' });
    expect((await store.listServices())[0]?.url).toBe('http://b.test/mcp');
  });

  it('serves a definition another registry on the store pinned or approved, as soon as it is told', async () => {
    const store = new SharedMemoryStore();
    const { registry: one } = registry(backends, [], store);
    await one.start();
    await one.register({ name: 'svc', url: 'http://a.test/mcp', credential: { type: 'none' }, surface: { pin: 'serve-pinned' } });
    const live = one.catalog.tools.items.find((tool) => tool.name === 'alpha');
    expect(live).toBeDefined();
    // Another replica approved another definition of the tool: this one serves it in place of what the service lists.
    const approved = { ...(live as Tool), description: 'approved elsewhere' };
    await store.putPins([{ service: 'svc', tool: 'alpha', digest: definitionDigest(approved), definition: approved, approvedAt: now, approvedBy: 'admin' }]);
    await until(() => one.catalog.tools.items.find((tool) => tool.name === 'alpha')?.description === 'approved elsewhere');
  });

  it('finds a change it never heard of when told to resync', async () => {
    const store = new SharedMemoryStore();
    const { registry: one } = registry(backends, [], store);
    await one.start();
    const listener = [...store.listeners][0];
    await store.putQuietly({ name: 'quiet', url: 'http://a.test/mcp', source: 'registered', credential: { type: 'none' }, createdAt: now, updatedAt: now });
    expect(one.get('quiet')).toBeUndefined();
    listener?.resync();
    await until(() => names(one).includes('alpha'));
  });
});

describe('Registry start-up', () => {
  it('builds the catalog once for a burst of services coming up, not once per service', async () => {
    const backends: Backends = new Map(Array.from({ length: 10 }, (_, i) => [`http://s${i}/mcp`, [`tool${i}`]]));
    // Every service's tools/list waits for `release`, so all ten answer in one burst.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waiting = new Set<string>();
    const factory = intercepted(backends, async (url, method) => {
      if (method !== 'tools/list') return;
      waiting.add(url);
      await gate;
    });
    const r = new Registry({
      store: new MemoryStore(),
      logger,
      configured: [...backends.keys()].map((url, i) => configured(`s${i}`, url)),
      gatewayToken: 'token',
      limits: { probeIntervalMs: 0, retryMinMs: 5, retryMaxMs: 20 },
      transportFactory: factory,
      // Only "every service has had its first attempt" ends this burst: the time bound is not what is tested.
      startBurstMs: 60_000,
    });
    registries.push(r);
    const builtWith: number[] = [];
    r.onCatalogChange((catalog, changed) => {
      if (changed.has('tools')) builtWith.push(catalog.tools.items.length);
    });
    await r.start();
    await vi.waitFor(() => expect(waiting.size).toBe(10), { timeout: 10_000 });
    release();
    await vi.waitFor(() => expect(builtWith.at(-1)).toBe(10), { timeout: 10_000 });
    // Perhaps one build of the empty catalog while the services were connecting; then one of all ten.
    expect(builtWith.filter((tools) => tools > 0)).toEqual([10]);
    expect(names(r)).toEqual(Array.from({ length: 10 }, (_, i) => `tool${i}`));
  });
});
