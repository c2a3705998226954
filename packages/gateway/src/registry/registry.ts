import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { Catalog, EMPTY_LISTINGS, type Listings, type ServiceListings } from '../model/catalog.js';
import { checkListings, logRejected, MAX_REJECTED_KEPT } from '../model/intake.js';
import { definitionDigest, type PinMode, type ToolPin } from '../model/pins.js';
import {
  type CatalogSnapshot,
  type CommandSpec,
  type CredentialSpec,
  redactUrl,
  type ServiceRecord,
  serviceTarget,
  type ToolSurfaceSpec,
} from '../model/service.js';
import { EMPTY_REPORT, type SurfaceReport, type SurfaceSettings, surfaceTools } from '../model/tool-surface.js';
import { UpstreamConnection, type UpstreamLimits, type UpstreamStatus } from '../upstream/connection.js';
import type { EnvAccess } from '../upstream/credential-policy.js';
import { transportFactoryFor } from '../upstream/detect.js';
import { instancesMeta } from '../upstream/loop.js';
import { answerServiceRequest } from '../upstream/relay.js';
import type { CommandTransports } from '../upstream/stdio/index.js';
import type { Dial, TransportFactory } from '../upstream/transport.js';
import type { RegistryStore } from './types.js';

/** A federated service: its record, its live connection, and its last known tools. */
export interface ManagedService {
  readonly record: ServiceRecord;
  readonly connection: UpstreamConnection;
  /** The last listings seen (this run or a previous one), used while the service is away. */
  snapshot: CatalogSnapshot | undefined;
}

export interface RegistryOptions {
  store: RegistryStore;
  logger: Logger;
  /** Services from configuration, in configuration order; they come before registered ones. */
  configured: ServiceRecord[];
  /** The token sent to services whose credential is `gateway`. */
  gatewayToken: string;
  /**
   * Whether registered services may be sent `gatewayToken` too; false while it is also a
   * token clients present (docs/security.md, finding 3). Configured services always may.
   */
  gatewayTokenForRegistered?: boolean;
  /** How a service's credential reads the environment, by where the service came from (credential-policy.ts). */
  credentialEnv?: (source: ServiceRecord['source']) => EnvAccess;
  /** Most registered services at once (MESHGATE_MAX_SERVICES); configured ones do not count. */
  maxServices?: number;
  /** This gateway process's instance id (upstream/loop.ts); connections refuse a service that names it. */
  instanceId?: string;
  limits?: Partial<UpstreamLimits>;
  /** How connections speak to URL services (each service's own `transport` setting unless given); tests pass a fake. */
  transportFactory?: TransportFactory;
  /** Runs command services (upstream/stdio/); without it a command service stays down, saying why. */
  stdio?: CommandTransports;
  /**
   * How connections to registered services are made: every connect checks the addresses
   * dialled (the SSRF guard). Configured services are the operator's choice and are not checked.
   */
  registeredDial?: Dial;
  /** How tools are surfaced where a service does not say (MESHGATE_PIN_TOOLS, MESHGATE_STRIP_INVISIBLE, MESHGATE_FLAG_INSTRUCTIONS). */
  surface?: SurfaceDefaults;
  /** The longest a start-up burst waits for every service's first attempt before building (START_BURST_MS). */
  startBurstMs?: number;
}

/** The gateway-wide surface settings (model/tool-surface.ts); a service's own `surface` overrides each. */
export interface SurfaceDefaults {
  pin: PinMode;
  strip: boolean;
  flag: boolean;
}

export const SURFACE_DEFAULTS: SurfaceDefaults = { pin: 'off', strip: false, flag: true };

/** One approved change: the tool, and its pinned digest before (null when it had none) and after. */
export interface Approval {
  tool: string;
  before: string | null;
  after: string;
}

/** What one service's tools became last time they were surfaced; reused while nothing it depends on changed. */
interface Surfaced {
  from: ServiceListings;
  record: ServiceRecord;
  pinsVersion: number;
  listings: ServiceListings;
  report: SurfaceReport;
}

/** A registration: an MCP URL with the credential for it (and how to speak to it), or a command to run. */
export type RegistrationInput = { name: string; credential: CredentialSpec; surface?: ToolSurfaceSpec } & (
  | { url: string; transport?: ServiceRecord['transport']; command?: never }
  | { command: CommandSpec; url?: never; transport?: never }
);

/** The lists a client can be told have changed (`notifications/<kind>/list_changed`). */
export type ListKind = 'tools' | 'prompts' | 'resources';
export type CatalogListener = (catalog: Catalog, changed: ReadonlySet<ListKind>) => void;
/** A notification a service sent outside any call (resource updates, log messages). */
export type NotificationListener = (service: string, method: string, params: Record<string, unknown>) => void;
/** Answers a service's request made outside any call (`roots/list`, say). */
export type ServiceRequestHandler = (service: string, method: string, params: Record<string, unknown> | undefined) => Promise<Record<string, unknown>>;

/** The longest a start-up burst of services coming up waits for its one catalog build (see Registry#invalidate). */
const START_BURST_MS = 200;

/** A service's connection changed status. */
export type StatusListener = (service: string, status: UpstreamStatus) => void;

/**
 * Owns the federated services and the catalog built from them. The catalog is rebuilt
 * when a service's tools or status change, never per request; listeners hear about
 * every change that alters what clients see.
 */
export class Registry {
  readonly #options: RegistryOptions;
  readonly #services = new Map<string, ManagedService>();
  readonly #listeners = new Set<CatalogListener>();
  readonly #notificationListeners = new Set<NotificationListener>();
  readonly #statusListeners = new Set<StatusListener>();
  #requestHandler: ServiceRequestHandler | undefined;
  #catalog = Catalog.empty;
  /** Whether start-up has settled and bare names now stay with their holders (see #rebuild). */
  #namesHeld = false;
  /** What the current catalog was built from, to skip a rebuild that would build the same (see #rebuild). */
  #inputs: readonly ServiceListings[] | undefined;
  /** Pinned definitions: service -> upstream tool name -> pin. */
  readonly #pins = new Map<string, Map<string, ToolPin>>();
  /** Bumped per service whenever its pins change, so its tools are surfaced again. */
  readonly #pinsVersion = new Map<string, number>();
  readonly #surfaced = new Map<string, Surfaced>();
  /** Names a local register, update or deregister is working on: reconciling leaves them to it. */
  readonly #busy = new Set<string>();
  /** The running reconcile, and whether another was asked for meanwhile (see #reconcile). */
  #reconciling: Promise<void> | undefined;
  #reconcileAgain = false;
  #unsubscribeFeed: (() => Promise<void>) | undefined;
  #closed = false;
  /** Whether something changed since the catalog was built: the next read, or the build scheduled by #invalidate, builds it. */
  #stale = false;
  /** The build scheduled for the next turn of the event loop, and the one at the end of a start-up burst. */
  #soon: NodeJS.Immediate | undefined;
  #burst: NodeJS.Timeout | undefined;

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  /** The catalog of what the services list now: a change not built yet is built on this read. */
  get catalog(): Catalog {
    if (this.#stale) this.#rebuild();
    return this.#catalog;
  }

  /** Loads registered services and last catalogs from the store and starts connecting to all. */
  async start(): Promise<void> {
    const { store, configured } = this.#options;
    const [registered, snapshots, pins] = await Promise.all([store.listServices(), store.listCatalogs(), store.listPins()]);
    for (const pin of pins) this.#pinsOf(pin.service).set(pin.tool, pin);
    const byService = new Map(snapshots.map((snapshot) => [snapshot.service, this.#checkStored(snapshot)]));
    const configuredNames = new Set(configured.map((record) => record.name));
    for (const record of [...configured, ...registered.filter((r) => !configuredNames.has(r.name))]) {
      this.#add(record, byService.get(record.name)).connection.start();
    }
    this.#invalidate();
    // A store several gateways share tells of their changes: each one, and "re-read all"
    // after a lost connection or on the periodic reconcile, become the same reconcile.
    if (store.feed !== undefined) {
      const reconcile = () => this.reconcile();
      const pins = () => void this.#reloadPins();
      this.#unsubscribeFeed = await store.feed.subscribe({
        changed: reconcile,
        resync: () => {
          reconcile();
          pins();
        },
        pinsChanged: pins,
      });
      // What changed between the first read and listening is not lost: read once more.
      await this.reconcile();
    }
  }

  /**
   * Brings registered services in line with the store: what another gateway on the same
   * store registered, changed or deregistered is connected, reconnected or dropped here,
   * and the catalog rebuilt. One at a time; asked for while one runs, it runs once more
   * after. Failures are logged (the next change or the periodic reconcile tries again).
   */
  reconcile(): Promise<void> {
    if (this.#reconciling !== undefined) {
      this.#reconcileAgain = true;
      return this.#reconciling;
    }
    this.#reconciling = (async () => {
      try {
        do {
          this.#reconcileAgain = false;
          await this.#applyStore();
        } while (this.#reconcileAgain && !this.#closed);
      } catch (error) {
        this.#options.logger.error({ err: error }, 'could not reconcile the registry with its store');
      } finally {
        this.#reconciling = undefined;
      }
    })();
    return this.#reconciling;
  }

  async #applyStore(): Promise<void> {
    const stored = await this.#options.store.listServices();
    if (this.#closed) return;
    const configuredNames = new Set(this.#options.configured.map((record) => record.name));
    const wanted = new Map(stored.filter((record) => !configuredNames.has(record.name)).map((record) => [record.name, record]));
    const closing: Promise<void>[] = [];
    let changed = false;
    for (const service of this.list()) {
      const { name } = service.record;
      if (service.record.source !== 'registered' || this.#busy.has(name)) continue;
      const record = wanted.get(name);
      if (record !== undefined && record.updatedAt === service.record.updatedAt) continue;
      this.#services.delete(name);
      closing.push(service.connection.close());
      changed = true;
      if (record === undefined) this.#options.logger.info({ service: name }, `service "${name}" was deregistered by another gateway`);
    }
    const fresh = [...wanted.values()].filter((record) => !this.#services.has(record.name) && !this.#busy.has(record.name));
    if (fresh.length > 0) {
      const snapshots = new Map((await this.#options.store.listCatalogs()).map((snapshot) => [snapshot.service, snapshot]));
      for (const record of fresh) {
        if (this.#closed || this.#services.has(record.name) || this.#busy.has(record.name)) continue;
        const snapshot = snapshots.get(record.name);
        this.#add(record, snapshot === undefined ? undefined : this.#checkStored(snapshot)).connection.start();
        changed = true;
        this.#options.logger.info(
          { service: record.name, url: redactUrl(serviceTarget(record)) },
          `service "${record.name}" was registered or updated by another gateway`,
        );
      }
      this.#reorder();
    }
    if (changed) this.#invalidate();
    await Promise.allSettled(closing);
  }

  /** Keeps federation order after services came from the store: configured first, then registered by creation time. */
  #reorder(): void {
    const services = this.list();
    const ordered = [
      ...services.filter((service) => service.record.source === 'config'),
      ...services
        .filter((service) => service.record.source === 'registered')
        .sort((a, b) => (a.record.createdAt < b.record.createdAt ? -1 : a.record.createdAt > b.record.createdAt ? 1 : 0)),
    ];
    this.#services.clear();
    for (const service of ordered) this.#services.set(service.record.name, service);
  }

  /**
   * The `_meta` of this gateway's `initialize` result: its own instance and every one behind
   * its services, so that a gateway that would federate this one sees itself in the list.
   */
  federationMeta(): Record<string, unknown> | undefined {
    const { instanceId } = this.#options;
    if (instanceId === undefined) return undefined;
    return instancesMeta(
      instanceId,
      this.list().flatMap((service) => service.connection.instances),
    );
  }

  /** Services in federation order: configured first, then by registration time. */
  list(): ManagedService[] {
    return [...this.#services.values()];
  }

  get(name: string): ManagedService | undefined {
    return this.#services.get(name);
  }

  /** Calls `listener` after every change of the federated catalog. Returns an unsubscribe. */
  onCatalogChange(listener: CatalogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls `listener` on every status change of a service's connection. Returns an unsubscribe. */
  onStatusChange(listener: StatusListener): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** Calls `listener` for every notification a service sends outside a call. Returns an unsubscribe. */
  onNotification(listener: NotificationListener): () => void {
    this.#notificationListeners.add(listener);
    return () => this.#notificationListeners.delete(listener);
  }

  /**
   * Sets who answers a service's request made outside any call when no single call is in
   * flight to take it (session/audience.ts). One handler: a later call replaces it.
   */
  onServiceRequest(handler: ServiceRequestHandler | undefined): void {
    this.#requestHandler = handler;
  }

  /**
   * Registers a service at runtime: connects and lists its tools first, and keeps it only
   * if that works, so a registration either fully succeeds or leaves nothing behind.
   */
  async register(input: RegistrationInput): Promise<ManagedService> {
    if (this.#services.has(input.name)) {
      throw new GatewayError('service_exists', `A service named "${input.name}" is already registered; choose another name or deregister it first`, {
        service: input.name,
      });
    }
    const { maxServices } = this.#options;
    if (maxServices !== undefined && this.list().filter((service) => service.record.source === 'registered').length >= maxServices) {
      throw new GatewayError('too_many_services', `The gateway already has ${maxServices} registered services (MESHGATE_MAX_SERVICES); deregister one first`, {
        service: input.name,
      });
    }
    if (this.#busy.has(input.name)) throw new GatewayError('service_exists', `A service named "${input.name}" is being registered`, { service: input.name });
    this.#busy.add(input.name);
    try {
      return await this.#register(input);
    } finally {
      this.#busy.delete(input.name);
    }
  }

  async #register(input: RegistrationInput): Promise<ManagedService> {
    const now = new Date().toISOString();
    const record = { ...input, source: 'registered', createdAt: now, updatedAt: now } as ServiceRecord;
    const connection = this.#connect(record);
    try {
      await connection.connectOnce();
    } catch (error) {
      await connection.close();
      throw error;
    }
    if (this.#services.has(input.name)) {
      // Another registration of the same name won the race while we were connecting.
      await connection.close();
      throw new GatewayError('service_exists', `A service named "${input.name}" is already registered`, { service: input.name });
    }
    let stored: boolean;
    try {
      // Compare and set: another gateway on the same store may have registered the name meanwhile.
      stored = await this.#options.store.putService(record, { absent: true });
    } catch (error) {
      await connection.close();
      throw storeError(`could not save service "${record.name}"`, error);
    }
    if (!stored) {
      await connection.close();
      throw new GatewayError('service_exists', `A service named "${input.name}" is already registered (by another gateway on the same store)`, {
        service: input.name,
      });
    }
    const service: ManagedService = { record, connection, snapshot: undefined };
    this.#services.set(record.name, service);
    this.#onListings(service, connection.listings ?? EMPTY_LISTINGS);
    connection.start(); // keeps it connected from now on
    this.#options.logger.info(
      { service: record.name, url: redactUrl(serviceTarget(record)), tools: connection.listings?.tools.length ?? 0 },
      `registered service "${record.name}"`,
    );
    return service;
  }

  /**
   * Changes a registered service's url or credential without a restart: connects with the
   * new settings first and switches over only if that works, so a bad update changes nothing.
   * Calls still running on the old connection fail cleanly when it closes.
   */
  async update(name: string, changes: Partial<Pick<ServiceRecord, 'url' | 'credential' | 'transport' | 'surface'>>): Promise<ManagedService> {
    const current = this.#services.get(name);
    if (current === undefined) throw new GatewayError('unknown_service', `No service named "${name}"`, { service: name });
    if (current.record.source === 'config') {
      throw new GatewayError('invalid_body', `Service "${name}" comes from configuration; change it there`, { service: name });
    }
    if (current.record.command !== undefined) {
      throw new GatewayError('invalid_body', `Service "${name}" runs a command; deregister it and register it again to change it`, { service: name });
    }
    if (this.#busy.has(name)) throw new GatewayError('service_exists', `Service "${name}" is being changed; try again`, { service: name });
    this.#busy.add(name);
    try {
      return await this.#update(current, changes);
    } finally {
      this.#busy.delete(name);
    }
  }

  async #update(current: ManagedService, changes: Partial<Pick<ServiceRecord, 'url' | 'credential' | 'transport'>>): Promise<ManagedService> {
    const { name } = current.record;
    // Never the same updatedAt as before, even within one millisecond: it is what other gateways compare.
    const updatedAt = new Date(Math.max(Date.now(), Date.parse(current.record.updatedAt) + 1)).toISOString();
    const record = { ...current.record, ...changes, updatedAt } as ServiceRecord;
    const connection = this.#connect(record);
    let stored: boolean;
    try {
      await connection.connectOnce();
      // Compare and set against the row this update started from: another gateway may have changed it.
      stored = await this.#options.store.putService(record, { updatedAt: current.record.updatedAt });
    } catch (error) {
      await connection.close();
      throw error instanceof GatewayError ? error : storeError(`could not save service "${name}"`, error);
    }
    if (!stored || this.#services.get(name) !== current) {
      await connection.close();
      throw new GatewayError('service_exists', `Service "${name}" changed while this update was connecting; try again`, { service: name });
    }
    const service: ManagedService = { record, connection, snapshot: current.snapshot };
    this.#services.set(name, service); // same key: federation order is kept
    this.#onListings(service, connection.listings ?? EMPTY_LISTINGS);
    connection.start();
    await current.connection.close();
    this.#options.logger.info({ service: name, url: redactUrl(serviceTarget(record)) }, `updated service "${name}"`);
    return service;
  }

  /** Removes a registered service; its in-flight calls fail cleanly as the connection closes. */
  async deregister(name: string): Promise<void> {
    const service = this.#services.get(name);
    if (service === undefined) throw new GatewayError('unknown_service', `No service named "${name}"`, { service: name });
    if (service.record.source === 'config') {
      throw new GatewayError('invalid_body', `Service "${name}" comes from configuration; remove it there`, { service: name });
    }
    this.#busy.add(name);
    try {
      // Gone from the store already (another gateway deregistered it) is the same outcome.
      await this.#options.store.deleteService(name);
    } catch (error) {
      throw storeError(`could not delete service "${name}"`, error);
    } finally {
      this.#busy.delete(name);
    }
    if (this.#services.get(name) !== service) return;
    this.#services.delete(name);
    this.#surfaced.delete(name); // its pins stay: a service registered again under this name is held to them
    this.#invalidate();
    await service.connection.close();
    this.#options.logger.info({ service: name }, `deregistered service "${name}"`);
  }

  /**
   * A stored catalog passes the same checks as a live listing: one saved by an older
   * gateway (or edited by hand) may hold items that would break every client's list.
   */
  #checkStored(snapshot: CatalogSnapshot): CatalogSnapshot {
    const { listings, rejected } = checkListings(snapshot);
    if (rejected.length === 0) return snapshot;
    logRejected(snapshot.service, rejected, this.#options.logger, 'its stored catalog');
    return { ...snapshot, ...listings, rejected: rejected.slice(0, MAX_REJECTED_KEPT) };
  }

  #add(record: ServiceRecord, snapshot: CatalogSnapshot | undefined): ManagedService {
    const service: ManagedService = { record, connection: this.#connect(record), snapshot };
    this.#services.set(record.name, service);
    return service;
  }

  /** How a service's connection speaks to it: its command's stdio, or HTTP (a test's factory, else the record's `transport` setting). */
  #transportOf(record: ServiceRecord): TransportFactory {
    if (record.command === undefined) return this.#options.transportFactory ?? transportFactoryFor(record.transport);
    const stdio = this.#options.stdio;
    if (stdio !== undefined) return stdio.factoryFor(record.name, record.command);
    return () => {
      throw new Error('this gateway was started without a stdio runner, so it cannot run command services');
    };
  }

  #connect(record: ServiceRecord): UpstreamConnection {
    const transportFactory = this.#transportOf(record);
    const connection: UpstreamConnection = new UpstreamConnection({
      service: record.name,
      url: serviceTarget(record),
      credential: record.credential,
      gatewayToken: record.source === 'config' || this.#options.gatewayTokenForRegistered === true ? this.#options.gatewayToken : undefined,
      ...(this.#options.credentialEnv === undefined ? {} : { env: this.#options.credentialEnv(record.source) }),
      ...(this.#options.instanceId === undefined ? {} : { instanceId: this.#options.instanceId }),
      logger: this.#options.logger,
      ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
      transportFactory,
      ...(record.source === 'registered' && this.#options.registeredDial !== undefined ? { dial: this.#options.registeredDial } : {}),
      onListings: (listings) => {
        const service = this.#services.get(record.name);
        if (service?.connection === connection) this.#onListings(service, listings);
      },
      onStatus: (status) => {
        if (this.#services.get(record.name)?.connection !== connection) return;
        this.#invalidate();
        for (const listener of this.#statusListeners) listener(record.name, status);
      },
      onNotification: (method, params) => {
        if (this.#services.get(record.name)?.connection !== connection) return;
        for (const listener of this.#notificationListeners) listener(record.name, method, params);
      },
      onRequest: (method, params) => {
        const handler = this.#requestHandler;
        if (handler === undefined || this.#services.get(record.name)?.connection !== connection)
          return answerServiceRequest(record.name, method, params, undefined);
        return handler(record.name, method, params);
      },
    });
    return connection;
  }

  #onListings(service: ManagedService, listings: Listings): void {
    const snapshot: CatalogSnapshot = { service: service.record.name, ...listings, seenAt: new Date().toISOString() };
    service.snapshot = snapshot;
    this.#options.store.putCatalog(snapshot).catch((error: unknown) => {
      this.#options.logger.error({ service: service.record.name, err: error }, 'could not save the service catalog');
    });
    this.#invalidate();
  }

  /** What a service contributes now: live when up, else the last known, else configured fallback tools. */
  static listingsOf(service: ManagedService): ServiceListings {
    const { connection, snapshot, record } = service;
    if ((connection.status === 'up' || connection.status === 'degraded') && connection.listings !== undefined) {
      return { service: record.name, listings: connection.listings, origin: 'live' };
    }
    const listings: Listings = snapshot ?? { ...EMPTY_LISTINGS, tools: record.fallbackTools ?? [] };
    return { service: record.name, listings, origin: 'fallback' };
  }

  /**
   * Marks the catalog out of date and schedules one build for all the changes made until
   * then (docs/performance.md, "Start-up"). While the services come up one after another at
   * start-up, the build waits until every service has had its first connection attempt, or
   * START_BURST_MS at most: building once per service that arrives built the catalog a
   * hundred times over everything listed so far, and filled the old generation with the
   * garbage. After that, the build runs on the next turn of the event loop. A read of
   * `catalog` before it builds it there and then, so no reader ever sees an out-of-date
   * catalog; only the catalog listeners hear of a change that much later.
   */
  #invalidate(): void {
    this.#stale = true;
    if (this.#soon !== undefined) return;
    const build = () => {
      this.#soon = undefined;
      this.#burst = undefined;
      if (this.#stale) this.#rebuild();
    };
    if (this.#namesHeld || this.#everyServiceTried()) {
      clearTimeout(this.#burst);
      this.#burst = undefined;
      this.#soon = setImmediate(build);
    } else if (this.#burst === undefined) {
      this.#burst = setTimeout(build, this.#options.startBurstMs ?? START_BURST_MS).unref();
    }
  }

  /** Whether every service has had its first connection attempt (listed, or down). */
  #everyServiceTried(): boolean {
    return this.list().every(({ connection }) => connection.listings !== undefined || connection.status === 'down');
  }

  /**
   * Builds the catalog again after a change, and tells the listeners which lists changed.
   * Its cost grows with every tool of every service, so nothing is rebuilt when what each
   * service contributes is the very same as last time (the same listings object, from the
   * same origin): a service turning degraded and back, which happens more often the more
   * services there are, costs nothing (docs/performance.md, "More backends").
   */
  #rebuild(): void {
    this.#stale = false;
    const inputs = this.list().map((service) => this.#surface(service, Registry.listingsOf(service)));
    const same = this.#inputs !== undefined && sameInputs(inputs, this.#inputs);
    // Bare names stick to their holder only once every service has had its first connection
    // attempt: until then federation order alone decides, so start-up gives the same names
    // whichever service happens to answer first.
    const previous = this.#catalog;
    const catalog = same ? previous : Catalog.build(inputs, this.#namesHeld ? previous : undefined);
    // From the first catalog built with every service tried (listed, or down), its names are held.
    if (!this.#namesHeld) this.#namesHeld = this.#everyServiceTried();
    if (same) return;
    const first = this.#inputs === undefined;
    this.#inputs = inputs;
    const changed = (['tools', 'prompts', 'resources'] as const).filter(
      (kind) =>
        first ||
        (kind === 'resources'
          ? !sameItems(catalog.resources.items, previous.resources.items) || !sameItems(catalog.resourceTemplates.items, previous.resourceTemplates.items)
          : !sameItems(catalog[kind].items, previous[kind].items)),
    );
    this.#catalog = catalog;
    if (changed.length === 0) return;
    for (const clash of catalog.clashes) {
      this.#options.logger.warn(
        clash,
        clash.exposedAs === null
          ? `${clash.kind} name clash: "${clash.name}" stays with "${clash.owner}"; "${clash.service}"'s is dropped, as its name is already qualified`
          : `${clash.kind} name clash: "${clash.name}" stays with "${clash.owner}"; "${clash.service}" exposes it as "${clash.exposedAs}"`,
      );
    }
    for (const listener of this.#listeners) listener(catalog, new Set(changed));
  }

  /** How the service's tools were surfaced last: override problems, held changes, flags. */
  surfaceReport(name: string): SurfaceReport {
    return this.#surfaced.get(name)?.report ?? EMPTY_REPORT;
  }

  /** The service's own surface settings over the gateway's. */
  surfaceSettings(record: ServiceRecord): SurfaceSettings {
    const defaults = this.#options.surface ?? SURFACE_DEFAULTS;
    const own = record.surface;
    return {
      overrides: own?.overrides,
      pin: own?.pin ?? defaults.pin,
      strip: own?.hygiene?.strip ?? defaults.strip,
      flag: own?.hygiene?.flag ?? defaults.flag,
    };
  }

  /**
   * Approves the held changes of a service's tools (all of them, or the one upstream `tool`):
   * the definition the service lists now is pinned in their place, stored before the catalog
   * serves it. With `digest`, only a change to exactly that definition is approved (what the
   * admin saw in `/services`), so a service that changed again meanwhile is not approved blind.
   */
  async approve(name: string, tool: string | undefined, approvedBy: string, digest?: string): Promise<Approval[]> {
    const service = this.#services.get(name);
    if (service === undefined) throw new GatewayError('unknown_service', `No service named "${name}"`, { service: name });
    const held = this.surfaceReport(name).held.filter((change) => tool === undefined || change.tool === tool);
    if (tool !== undefined && held.length === 0) {
      const listed = Registry.listingsOf(service).listings.tools.some((item) => item.name === tool);
      throw new GatewayError(
        listed ? 'nothing_to_approve' : 'unknown_tool',
        listed ? `Tool "${tool}" of service "${name}" has no held change to approve` : `Service "${name}" lists no tool "${tool}"`,
        { service: name },
      );
    }
    if (digest !== undefined && held.some((change) => change.digest !== digest)) {
      throw new GatewayError(
        'nothing_to_approve',
        `Tool "${tool ?? '(all)'}" of service "${name}" changed again: its definition is no longer ${digest}; look at /services again`,
        {
          service: name,
        },
      );
    }
    const now = new Date().toISOString();
    const live = new Map(Registry.listingsOf(service).listings.tools.map((item) => [item.name, item]));
    const pins: ToolPin[] = held.flatMap((change) => {
      const definition = live.get(change.tool);
      return definition === undefined
        ? []
        : [{ service: name, tool: change.tool, digest: definitionDigest(definition), definition, approvedAt: now, approvedBy }];
    });
    try {
      await this.#options.store.putPins(pins);
    } catch (error) {
      throw storeError(`could not save the approved definitions of service "${name}"`, error);
    }
    const mine = this.#pinsOf(name);
    const approvals = pins.map((pin) => ({ tool: pin.tool, before: mine.get(pin.tool)?.digest ?? null, after: pin.digest }));
    for (const pin of pins) mine.set(pin.tool, pin);
    this.#pinsVersion.set(name, (this.#pinsVersion.get(name) ?? 0) + 1);
    this.#rebuild();
    return approvals;
  }

  /**
   * Reads the pins again after another gateway on the store pinned or approved something:
   * a service whose pins differ is surfaced again, so an approval made through one replica
   * is served by every replica. Failures are logged (the periodic resync tries again).
   */
  async #reloadPins(): Promise<void> {
    let stored: ToolPin[];
    try {
      stored = await this.#options.store.listPins();
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'could not read the pinned tool definitions again');
      return;
    }
    if (this.#closed) return;
    const fresh = new Map<string, Map<string, ToolPin>>();
    for (const pin of stored) {
      const mine = fresh.get(pin.service) ?? new Map<string, ToolPin>();
      mine.set(pin.tool, pin);
      fresh.set(pin.service, mine);
    }
    let changed = false;
    for (const service of new Set([...fresh.keys(), ...this.#pins.keys()])) {
      const now = fresh.get(service) ?? new Map<string, ToolPin>();
      const before = this.#pins.get(service) ?? new Map<string, ToolPin>();
      const same = now.size === before.size && [...now].every(([tool, pin]) => before.get(tool)?.digest === pin.digest);
      if (same) continue;
      this.#pins.set(service, now);
      this.#pinsVersion.set(service, (this.#pinsVersion.get(service) ?? 0) + 1);
      changed = true;
    }
    if (changed) this.#invalidate();
  }

  #pinsOf(service: string): Map<string, ToolPin> {
    let pins = this.#pins.get(service);
    if (pins === undefined) {
      pins = new Map();
      this.#pins.set(service, pins);
    }
    return pins;
  }

  /**
   * What one service contributes once its tools are surfaced (pins, hygiene, overrides:
   * model/tool-surface.ts). The result is reused, the same object, while its listings, its
   * record and its pins stay the same, so the rebuild's shortcut (sameInputs) still holds.
   */
  #surface(service: ManagedService, listed: ServiceListings): ServiceListings {
    const name = service.record.name;
    const pinsVersion = this.#pinsVersion.get(name) ?? 0;
    const last = this.#surfaced.get(name);
    if (
      last !== undefined &&
      last.from.listings === listed.listings &&
      last.from.origin === listed.origin &&
      last.record === service.record &&
      last.pinsVersion === pinsVersion
    )
      return last.listings;
    const settings = this.surfaceSettings(service.record);
    const surfaced = surfaceTools(name, listed.listings.tools, settings, this.#pins.get(name) ?? new Map(), listed.origin === 'live', new Date().toISOString());
    if (surfaced.newPins.length > 0) {
      const mine = this.#pinsOf(name);
      for (const pin of surfaced.newPins) mine.set(pin.tool, pin);
      this.#options.store.putPins(surfaced.newPins).catch((error: unknown) => {
        this.#options.logger.error({ service: name, err: error }, 'could not save pinned tool definitions');
      });
    }
    this.#logReport(name, surfaced.report, last?.report);
    const unchanged = surfaced.tools.length === listed.listings.tools.length && surfaced.tools.every((tool, i) => tool === listed.listings.tools[i]);
    const listings: ServiceListings = unchanged
      ? listed
      : { ...listed, listings: { ...listed.listings, tools: surfaced.tools }, ...(surfaced.upstreamOf.size === 0 ? {} : { upstreamOf: surfaced.upstreamOf }) };
    this.#surfaced.set(name, { from: listed, record: service.record, pinsVersion: this.#pinsVersion.get(name) ?? 0, listings, report: surfaced.report });
    return listings;
  }

  /** Warns once per new finding: a held change, a flagged text, an override that does not apply. */
  #logReport(service: string, report: SurfaceReport, before: SurfaceReport | undefined): void {
    const { logger } = this.#options;
    const known = (list: readonly unknown[] | undefined, item: unknown) => list?.some((old) => JSON.stringify(old) === JSON.stringify(item)) === true;
    for (const held of report.held) {
      if (known(before?.held, held)) continue;
      logger.warn(
        { service, tool: held.tool, pinnedDigest: held.pinnedDigest, digest: held.digest, fields: held.changes.map((change) => change.field) },
        `service "${service}" changed the definition of tool "${held.tool}" after it was pinned; the change is held back (${held.served}) until an admin approves it`,
      );
    }
    for (const flag of report.flags) {
      if (!known(before?.flags, flag)) {
        logger.warn(
          { service, tool: flag.tool, field: flag.field, rules: flag.rules },
          `service "${service}": the ${flag.field} of tool "${flag.tool}" reads like instructions to the model (${flag.rules.join(', ')})`,
        );
      }
    }
    for (const problem of report.overrideProblems) {
      if (!known(before?.overrideProblems, problem))
        logger.warn({ service, tool: problem.tool }, `service "${service}": override of tool "${problem.tool}": ${problem.problem}`);
    }
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#unsubscribeFeed?.();
    await this.#reconciling;
    clearImmediate(this.#soon);
    clearTimeout(this.#burst);
    this.#soon = undefined;
    this.#burst = undefined;
    this.#stale = false;
    const services = this.list();
    this.#services.clear();
    this.#listeners.clear();
    this.#notificationListeners.clear();
    this.#statusListeners.clear();
    await Promise.allSettled(services.map((service) => service.connection.close()));
  }
}

export function storeError(what: string, error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('store_error', `Registry store failed: ${what}: ${error instanceof Error ? error.message : String(error)}`);
}

/** Whether two catalog inputs are the same services, in the same order, with the same listings objects and origins. */
function sameInputs(a: readonly ServiceListings[], b: readonly ServiceListings[]): boolean {
  return a.length === b.length && a.every((entry, i) => entry.service === b[i]!.service && entry.listings === b[i]!.listings && entry.origin === b[i]!.origin);
}

/**
 * Whether two lists serialise alike: item by item, by identity first (an item a service
 * listed again unchanged is mostly the same object), by JSON only where it is not. A
 * rebuild after one service changed compares that service's items, not every tool.
 */
function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i] || JSON.stringify(item) === JSON.stringify(b[i]));
}
