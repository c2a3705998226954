import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { Catalog, EMPTY_LISTINGS, type Listings, type ServiceListings } from '../model/catalog.js';
import type { CatalogSnapshot, CredentialSpec, ServiceRecord } from '../model/service.js';
import { UpstreamConnection, type UpstreamLimits, type UpstreamStatus } from '../upstream/connection.js';
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
  limits?: Partial<UpstreamLimits>;
  /** How connections speak to services (streamable HTTP unless given); tests pass a fake. */
  transportFactory?: TransportFactory;
  /**
   * How connections to registered services are made: every connect checks the addresses
   * dialled (the SSRF guard). Configured services are the operator's choice and are not checked.
   */
  registeredDial?: Dial;
}

export interface RegistrationInput {
  name: string;
  url: string;
  credential: CredentialSpec;
}

/** The lists a client can be told have changed (`notifications/<kind>/list_changed`). */
export type ListKind = 'tools' | 'prompts' | 'resources';
export type CatalogListener = (catalog: Catalog, changed: ReadonlySet<ListKind>) => void;
/** A notification a service sent outside any call (resource updates, log messages). */
export type NotificationListener = (service: string, method: string, params: Record<string, unknown>) => void;
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
  #catalog = Catalog.empty;
  #signatures: Record<ListKind, string> = { tools: '', prompts: '', resources: '' };

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  get catalog(): Catalog {
    return this.#catalog;
  }

  /** Loads registered services and last catalogs from the store and starts connecting to all. */
  async start(): Promise<void> {
    const { store, configured } = this.#options;
    const [registered, snapshots] = await Promise.all([store.listServices(), store.listCatalogs()]);
    const byService = new Map(snapshots.map((snapshot) => [snapshot.service, snapshot]));
    const configuredNames = new Set(configured.map((record) => record.name));
    for (const record of [...configured, ...registered.filter((r) => !configuredNames.has(r.name))]) {
      this.#add(record, byService.get(record.name)).connection.start();
    }
    this.#rebuild();
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
   * Registers a service at runtime: connects and lists its tools first, and keeps it only
   * if that works, so a registration either fully succeeds or leaves nothing behind.
   */
  async register(input: RegistrationInput): Promise<ManagedService> {
    if (this.#services.has(input.name)) {
      throw new GatewayError('service_exists', `A service named "${input.name}" is already registered; choose another name or deregister it first`, {
        service: input.name,
      });
    }
    const now = new Date().toISOString();
    const record: ServiceRecord = { ...input, source: 'registered', createdAt: now, updatedAt: now };
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
    try {
      await this.#options.store.putService(record);
    } catch (error) {
      await connection.close();
      throw storeError(`could not save service "${record.name}"`, error);
    }
    const service: ManagedService = { record, connection, snapshot: undefined };
    this.#services.set(record.name, service);
    this.#onListings(service, connection.listings ?? EMPTY_LISTINGS);
    connection.start(); // keeps it connected from now on
    this.#options.logger.info({ service: record.name, url: record.url, tools: connection.listings?.tools.length ?? 0 }, `registered service "${record.name}"`);
    return service;
  }

  /**
   * Changes a registered service's url or credential without a restart: connects with the
   * new settings first and switches over only if that works, so a bad update changes nothing.
   * Calls still running on the old connection fail cleanly when it closes.
   */
  async update(name: string, changes: Partial<Pick<ServiceRecord, 'url' | 'credential'>>): Promise<ManagedService> {
    const current = this.#services.get(name);
    if (current === undefined) throw new GatewayError('unknown_service', `No service named "${name}"`, { service: name });
    if (current.record.source === 'config') {
      throw new GatewayError('invalid_body', `Service "${name}" comes from configuration; change it there`, { service: name });
    }
    const record: ServiceRecord = { ...current.record, ...changes, updatedAt: new Date().toISOString() };
    const connection = this.#connect(record);
    try {
      await connection.connectOnce();
      await this.#options.store.putService(record);
    } catch (error) {
      await connection.close();
      throw error instanceof GatewayError ? error : storeError(`could not save service "${name}"`, error);
    }
    if (this.#services.get(name) !== current) {
      await connection.close();
      throw new GatewayError('service_exists', `Service "${name}" changed while this update was connecting; try again`, { service: name });
    }
    const service: ManagedService = { record, connection, snapshot: current.snapshot };
    this.#services.set(name, service); // same key: federation order is kept
    this.#onListings(service, connection.listings ?? EMPTY_LISTINGS);
    connection.start();
    await current.connection.close();
    this.#options.logger.info({ service: name, url: record.url }, `updated service "${name}"`);
    return service;
  }

  /** Removes a registered service; its in-flight calls fail cleanly as the connection closes. */
  async deregister(name: string): Promise<void> {
    const service = this.#services.get(name);
    if (service === undefined) throw new GatewayError('unknown_service', `No service named "${name}"`, { service: name });
    if (service.record.source === 'config') {
      throw new GatewayError('invalid_body', `Service "${name}" comes from configuration; remove it there`, { service: name });
    }
    try {
      await this.#options.store.deleteService(name);
    } catch (error) {
      throw storeError(`could not delete service "${name}"`, error);
    }
    this.#services.delete(name);
    this.#rebuild();
    await service.connection.close();
    this.#options.logger.info({ service: name }, `deregistered service "${name}"`);
  }

  #add(record: ServiceRecord, snapshot: CatalogSnapshot | undefined): ManagedService {
    const service: ManagedService = { record, connection: this.#connect(record), snapshot };
    this.#services.set(record.name, service);
    return service;
  }

  #connect(record: ServiceRecord): UpstreamConnection {
    const connection: UpstreamConnection = new UpstreamConnection({
      service: record.name,
      url: record.url,
      credential: record.credential,
      gatewayToken: this.#options.gatewayToken,
      logger: this.#options.logger,
      ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
      ...(this.#options.transportFactory === undefined ? {} : { transportFactory: this.#options.transportFactory }),
      ...(record.source === 'registered' && this.#options.registeredDial !== undefined ? { dial: this.#options.registeredDial } : {}),
      onListings: (listings) => {
        const service = this.#services.get(record.name);
        if (service?.connection === connection) this.#onListings(service, listings);
      },
      onStatus: (status) => {
        if (this.#services.get(record.name)?.connection !== connection) return;
        this.#rebuild();
        for (const listener of this.#statusListeners) listener(record.name, status);
      },
      onNotification: (method, params) => {
        if (this.#services.get(record.name)?.connection !== connection) return;
        for (const listener of this.#notificationListeners) listener(record.name, method, params);
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
    this.#rebuild();
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

  #rebuild(): void {
    const catalog = Catalog.build(this.list().map((service) => Registry.listingsOf(service)));
    const signatures = {
      tools: JSON.stringify(catalog.tools.items),
      prompts: JSON.stringify(catalog.prompts.items),
      resources: JSON.stringify([catalog.resources.items, catalog.resourceTemplates.items]),
    };
    const changed = (Object.keys(signatures) as ListKind[]).filter((kind) => signatures[kind] !== this.#signatures[kind]);
    this.#catalog = catalog;
    this.#signatures = signatures;
    if (changed.length === 0) return;
    for (const clash of catalog.clashes) {
      this.#options.logger.warn(
        clash,
        `${clash.kind} name clash: "${clash.name}" stays with "${clash.owner}"; "${clash.service}" exposes it as "${clash.exposedAs}"`,
      );
    }
    for (const listener of this.#listeners) listener(catalog, new Set(changed));
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    const services = this.list();
    this.#services.clear();
    this.#listeners.clear();
    this.#notificationListeners.clear();
    this.#statusListeners.clear();
    await Promise.allSettled(services.map((service) => service.connection.close()));
  }
}

function storeError(what: string, error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('store_error', `Registry store failed: ${what}: ${error instanceof Error ? error.message : String(error)}`);
}
