import type { Tool } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { AllowList } from '../auth/allow-list.js';
import { GatewayError } from '../errors.js';
import type { Catalog } from '../model/catalog.js';
import type { IndexEntry, ItemIndex } from '../model/item-index.js';
import { applyToolOverrides, type OverrideProblem, type ToolOverrides } from '../model/overrides.js';
import type { VirtualServerMode, VirtualServerRecord, VirtualServerSpec } from '../model/virtual-server.js';
import { type Registry, storeError } from '../registry/registry.js';
import type { RegistryStore } from '../registry/types.js';
import { ToolSearch } from './tool-search.js';

const NOTHING = new AllowList([]);

/** What a request on a virtual server's endpoint carries in its context (RequestContext.server). */
export interface ServerScope {
  readonly name: string;
  readonly mode: VirtualServerMode;
  /** The search index of the view's tools, in search mode. */
  readonly search: ToolSearch | undefined;
}

/**
 * One virtual server: its selection, and its view of each catalog, made once per catalog
 * (VirtualServers builds it as soon as the catalog changes) and kept as long as that
 * catalog lives, with the search index of its tools in search mode.
 */
export class VirtualServer {
  readonly #tools: AllowList;
  readonly #prompts: AllowList;
  readonly #resources: AllowList;
  readonly #views = new WeakMap<Catalog, { catalog: Catalog; search: ToolSearch | undefined }>();

  /** Overrides of the latest view that could not be applied (a name it does not serve, a rename onto a taken name). */
  overrideProblems: readonly OverrideProblem[] = [];

  constructor(readonly record: VirtualServerRecord) {
    this.#tools = new AllowList(record.tools);
    this.#prompts = record.prompts === undefined ? NOTHING : new AllowList(record.prompts);
    this.#resources = record.resources === undefined ? NOTHING : new AllowList(record.resources);
  }

  get name(): string {
    return this.record.name;
  }

  get mode(): VirtualServerMode {
    return this.record.mode ?? 'catalog';
  }

  /** The part of `federated` this server serves, under the same names, and its search index (search mode). */
  view(federated: Catalog): { catalog: Catalog; search: ToolSearch | undefined } {
    let view = this.#views.get(federated);
    if (view === undefined) {
      const selected = federated.select({
        tool: (entry) => this.#tools.allows(entry),
        prompt: (entry) => this.#prompts.allows(entry),
        resource: (entry) => this.#resources.allows(entry),
        resourceTemplate: (entry) => this.#resources.allows(entry),
      });
      const { catalog, problems } = overriddenView(selected, this.record.overrides);
      this.overrideProblems = problems;
      view = { catalog, search: this.mode === 'search' ? new ToolSearch(catalog.tools as ItemIndex<Tool>) : undefined };
      this.#views.set(federated, view);
    }
    return view;
  }

  /** What a request on this server's endpoint sees now: its view of the current catalog. */
  scope(federated: Catalog): { catalog: Catalog; server: ServerScope } {
    const { catalog, search } = this.view(federated);
    return { catalog, server: { name: this.name, mode: this.mode, search } };
  }
}

/**
 * A view's tools with its overrides applied (model/overrides.ts, keyed by the names on
 * `/mcp`): a renamed tool is exposed, and called, under its new name on this endpoint only,
 * and still routes to its service's upstream name; a hidden one is gone from the view.
 */
function overriddenView(view: Catalog, overrides: ToolOverrides | undefined): { catalog: Catalog; problems: OverrideProblem[] } {
  if (overrides === undefined || Object.keys(overrides).length === 0) return { catalog: view, problems: [] };
  const entries = view.tools.entries as readonly IndexEntry<Tool>[];
  const applied = applyToolOverrides(
    entries.map((entry) => entry.item),
    overrides,
  );
  const byName = new Map(entries.map((entry) => [entry.exposedName, entry]));
  const reshaped = applied.tools.flatMap((tool) => {
    const entry = byName.get(applied.upstreamOf.get(tool.name) ?? tool.name);
    if (entry === undefined) return [];
    const renamed = tool.name !== entry.exposedName;
    return [{ ...entry, exposedName: tool.name, ...(renamed ? { surfacedName: tool.name } : {}), item: tool }];
  });
  const problems = applied.problems.map((problem) =>
    problem.problem === 'the service lists no tool of this name' ? { ...problem, problem: 'this virtual server serves no tool of this name' } : problem,
  );
  return { catalog: view.withTools((view.tools as ItemIndex<Tool>).withEntries(reshaped)), problems };
}

export interface VirtualServersOptions {
  registry: Registry;
  store: RegistryStore;
  /** From the config file, in its order; they come before stored ones, and a stored one of the same name is ignored. */
  configured: readonly VirtualServerSpec[];
  logger: Logger;
}

/**
 * The virtual servers: configured ones and those made through the admin API (kept in the
 * registry store). Every view is rebuilt when the federated catalog changes, so a request
 * only looks its view up.
 */
export class VirtualServers {
  readonly #servers = new Map<string, VirtualServer>();
  readonly #options: VirtualServersOptions;
  #stop: (() => void) | undefined;
  #unsubscribeFeed: (() => Promise<void>) | undefined;

  constructor(options: VirtualServersOptions) {
    this.#options = options;
    const now = new Date().toISOString();
    for (const spec of options.configured) this.#servers.set(spec.name, new VirtualServer({ ...spec, source: 'config', createdAt: now, updatedAt: now }));
  }

  /** Loads the stored servers and builds every view now and after each catalog change. */
  async start(): Promise<void> {
    for (const record of await this.#options.store.listVirtualServers()) {
      if (this.#servers.has(record.name)) {
        this.#options.logger.warn(
          { virtualServer: record.name },
          `virtual server "${record.name}" is in the config file and in the store; the config file's is served`,
        );
        continue;
      }
      this.#servers.set(record.name, new VirtualServer(record));
    }
    this.#stop = this.#options.registry.onCatalogChange((catalog) => this.#prebuild(catalog));
    this.#prebuild(this.#options.registry.catalog);
    // A store several gateways share tells of their changes: a server made, replaced or
    // deleted through another replica is served (or gone) here too.
    const feed = this.#options.store.feed;
    if (feed !== undefined) {
      const reload = () => void this.#reload();
      this.#unsubscribeFeed = await feed.subscribe({ changed: () => {}, resync: reload, virtualServerChanged: reload });
    }
  }

  stop(): void {
    this.#stop?.();
    this.#unsubscribeFeed?.().catch(() => undefined);
    this.#unsubscribeFeed = undefined;
  }

  /** Brings the stored servers in line with the store (configured ones are the config file's). */
  async #reload(): Promise<void> {
    let stored: VirtualServerRecord[];
    try {
      stored = await this.#options.store.listVirtualServers();
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'could not read the virtual servers again');
      return;
    }
    const wanted = new Map(stored.map((record) => [record.name, record]));
    for (const [name, server] of this.#servers) {
      if (server.record.source === 'registered' && !wanted.has(name)) this.#servers.delete(name);
    }
    for (const record of stored) {
      const current = this.#servers.get(record.name);
      if (current?.record.source === 'config' || (current !== undefined && sameVersion(current.record, record))) continue;
      const server = new VirtualServer(record);
      server.view(this.#options.registry.catalog);
      this.#servers.set(record.name, server);
    }
  }

  /** The catalog a session sees: the federated one on `/mcp` (`server` undefined), its server's view, or undefined when that server was deleted. */
  catalogOf(server: string | undefined, federated: Catalog): Catalog | undefined {
    if (server === undefined) return federated;
    return this.#servers.get(server)?.view(federated).catalog;
  }

  get(name: string): VirtualServer | undefined {
    return this.#servers.get(name);
  }

  list(): VirtualServer[] {
    return [...this.#servers.values()];
  }

  /** Adds a server and stores it; `virtual_server_exists` when the name is taken. */
  async create(spec: VirtualServerSpec): Promise<VirtualServer> {
    if (this.#servers.has(spec.name)) {
      throw new GatewayError('virtual_server_exists', `A virtual server named "${spec.name}" already exists; choose another name or change it with PUT`, {
        virtualServer: spec.name,
      });
    }
    const now = new Date().toISOString();
    return this.#put({ ...spec, source: 'registered', createdAt: now, updatedAt: now }, undefined);
  }

  /** Replaces a stored server's definition (not a configured one's); its open sessions see the new view at once. */
  async replace(name: string, spec: Omit<VirtualServerSpec, 'name'>): Promise<VirtualServer> {
    const current = this.#changeable(name, 'change');
    return this.#put({ ...spec, name, source: 'registered', createdAt: current.record.createdAt, updatedAt: new Date().toISOString() }, current);
  }

  async remove(name: string): Promise<void> {
    this.#changeable(name, 'remove');
    try {
      await this.#options.store.deleteVirtualServer(name);
    } catch (error) {
      throw storeError(`could not delete virtual server "${name}"`, error);
    }
    this.#servers.delete(name);
  }

  #changeable(name: string, what: string): VirtualServer {
    const current = this.#servers.get(name);
    if (current === undefined) throw unknownVirtualServer(name);
    if (current.record.source === 'config') {
      throw new GatewayError('invalid_body', `Virtual server "${name}" comes from the config file; ${what} it there`, { virtualServer: name });
    }
    return current;
  }

  async #put(record: VirtualServerRecord, current: VirtualServer | undefined): Promise<VirtualServer> {
    const server = new VirtualServer(record);
    // Built before it is stored: a selection is checked, and its first request finds its view ready.
    server.view(this.#options.registry.catalog);
    try {
      await this.#options.store.putVirtualServer(record);
    } catch (error) {
      throw storeError(`could not save virtual server "${record.name}"`, error);
    }
    // Changed meanwhile, unless what is there now is what this request wrote: the change feed
    // reloads what is stored, this gateway's own writes too, and may do so before the write returns.
    const now = this.#servers.get(record.name);
    if (now !== current && !(now !== undefined && sameVersion(now.record, record))) {
      throw new GatewayError('virtual_server_exists', `Virtual server "${record.name}" changed while this request ran; try again`, {
        virtualServer: record.name,
      });
    }
    this.#servers.set(record.name, server);
    return server;
  }

  #prebuild(catalog: Catalog): void {
    for (const server of this.#servers.values()) server.view(catalog);
  }
}

export function unknownVirtualServer(name: string): GatewayError {
  return new GatewayError('unknown_virtual_server', `No virtual server named "${name.slice(0, 100)}"; GET /virtual-servers lists them`, {
    virtualServer: name.slice(0, 100),
  });
}

/** Whether two records of a virtual server are the same stored version (made and last changed at the same moments). */
function sameVersion(a: VirtualServerRecord, b: VirtualServerRecord | undefined): boolean {
  return b !== undefined && a.createdAt === b.createdAt && a.updatedAt === b.updatedAt;
}
