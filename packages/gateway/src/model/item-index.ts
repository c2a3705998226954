import { isSafeToolName, type NamingScheme, toolAlias } from './naming.js';

export type Origin = 'live' | 'fallback';

/** The items of one kind that one service contributes, in federation order. */
export interface ServiceItems<T> {
  service: string;
  items: readonly T[];
  /** `live` when listed from the running service, `fallback` when from config or the last catalog seen. */
  origin: Origin;
  /**
   * The upstream name of each item whose key was changed before federation (an override's
   * rename), by its new key; an item not in it is keyed by its upstream name.
   */
  upstreamOf?: ReadonlyMap<string, string>;
}

/** How `ItemIndex.build` names items besides the federation rules. */
export interface BuildOptions {
  /**
   * Tools only: every exposed name matches SAFE_TOOL_NAME; one that would not (too long,
   * also once qualified, or with other characters) is exposed as its `toolAlias`.
   */
  safeNames?: boolean;
}

/** One federated item: how clients see it and where it goes. */
export interface IndexEntry<T> {
  exposedName: string;
  service: string;
  /** The name (or URI) the service knows it by: what a call sends upstream. */
  upstreamName: string;
  /** Its name before federation naming: the upstream name, or what an override renamed it to; its qualified form resolves too. */
  surfacedName: string;
  /** Whether `exposedName` is an alias given because the name was not safe (naming.ts `toolAlias`). */
  aliased?: true;
  origin: Origin;
  /** The upstream definition under the exposed name; everything else untouched. */
  item: T;
}

/**
 * A name (or URI) two services both brought: who kept it, and what the newcomer got
 * instead; `null` when the newcomer's item was dropped because its name is already a
 * qualified one (qualifying it again is how federation loops grow `a__a__a__...`).
 */
export interface NameClash {
  name: string;
  owner: string;
  service: string;
  exposedAs: string | null;
}

/**
 * One kind of federated item (tools, prompts, resources or resource templates), built
 * once whenever a service's listings change and read on every request. Resolution is
 * exact: an exposed name, or any item's qualified form.
 */
export class ItemIndex<T> {
  readonly items: readonly T[];
  readonly #byExposed: Map<string, IndexEntry<T>>;
  readonly #byQualified: Map<string, IndexEntry<T>>;
  readonly #scheme: NamingScheme<T>;

  private constructor(
    readonly entries: readonly IndexEntry<T>[],
    readonly clashes: readonly NameClash[],
    scheme: NamingScheme<T>,
    /** Who holds each bare name: kept across rebuilds so that a bare name does not move (see build). */
    readonly claims: ReadonlyMap<string, string> = new Map(),
  ) {
    this.#scheme = scheme;
    // Frozen: list answers are memoized by identity (service-kit serializeJson), so this array never changes.
    this.items = Object.freeze(entries.map((entry) => entry.item));
    this.#byExposed = new Map(entries.map((entry) => [entry.exposedName, entry]));
    this.#byQualified = new Map(entries.map((entry) => [scheme.qualify(entry.service, entry.surfacedName), entry]));
  }

  static empty<T>(scheme: NamingScheme<T>): ItemIndex<T> {
    return new ItemIndex<T>([], [], scheme);
  }

  /**
   * Merges the services' items in the order given (configured services first, then
   * registration order): the first service to bring a name keeps it bare. A bare name
   * that spells another service's qualified name is qualified too, so that the
   * qualified form always means that service's item.
   *
   * A bare name is stable: `claims` (the previous index's) says who holds each one, and
   * the holder keeps it for as long as it is in the federation, also while it is away or
   * does not list the item for a while; no other service takes it meanwhile (its item
   * stays qualified). Only a holder that left the federation (deregistered) lets a name go.
   * A name that is already qualified is never qualified again: such an item that cannot
   * keep its name is dropped and reported as a clash.
   */
  static build<T>(
    services: readonly ServiceItems<T>[],
    scheme: NamingScheme<T>,
    claims: ReadonlyMap<string, string> = new Map(),
    options: BuildOptions = {},
  ): ItemIndex<T> {
    const present = new Set(services.map(({ service }) => service));
    const held = new Map([...claims].filter(([, holder]) => present.has(holder)));
    const qualifiedNames = new Set<string>();
    for (const { service, items } of services) for (const item of items) qualifiedNames.add(scheme.qualify(service, scheme.key(item)));

    const entries: IndexEntry<T>[] = [];
    const clashes: NameClash[] = [];
    const owners = new Map<string, string>();
    const seen = new Set<string>();
    for (const { service, items, origin, upstreamOf } of services) {
      for (const item of items) {
        const surfacedName = scheme.key(item);
        const upstreamName = upstreamOf?.get(surfacedName) ?? surfacedName;
        const ownName = scheme.qualify(service, surfacedName);
        if (seen.has(ownName)) continue; // a service listing one name twice: keep the first
        seen.add(ownName);
        const shadowed = qualifiedNames.has(surfacedName) && surfacedName !== ownName ? scheme.unqualify(surfacedName)?.service : undefined;
        const holder = held.get(surfacedName);
        const owner = (holder === service ? undefined : holder) ?? owners.get(surfacedName) ?? shadowed;
        let exposedName = surfacedName;
        if (owner === undefined) {
          owners.set(surfacedName, service);
          held.set(surfacedName, service);
        } else if (scheme.unqualify(surfacedName) !== undefined) {
          clashes.push({ name: surfacedName, owner, service, exposedAs: null });
          continue;
        } else {
          exposedName = ownName;
          clashes.push({ name: surfacedName, owner, service, exposedAs: exposedName });
        }
        entries.push({ exposedName, service, upstreamName, surfacedName, origin, item });
      }
    }
    if (options.safeNames === true) aliasUnsafe(entries, clashes);
    for (const entry of entries) if (entry.exposedName !== scheme.key(entry.item)) entry.item = scheme.rename(entry.item, entry.exposedName);
    return new ItemIndex(entries, clashes, scheme, held);
  }

  /**
   * The entries `keep` picks, under the names they have here (a virtual server's view):
   * nothing is renamed, so a tool is called by the same name on every endpoint.
   */
  subset(keep: (entry: IndexEntry<T>) => boolean): ItemIndex<T> {
    return this.withEntries(this.entries.filter(keep));
  }

  /**
   * An index of `entries` (this index's, changed by a virtual server's overrides) with this
   * one's naming scheme. The caller keeps exposed names unique.
   */
  withEntries(entries: readonly IndexEntry<T>[]): ItemIndex<T> {
    return new ItemIndex(entries, [], this.#scheme, this.claims);
  }

  /** Finds the item a client means by `name`: exposed first, then the qualified form. */
  resolve(name: string): IndexEntry<T> | undefined {
    return this.#byExposed.get(name) ?? this.#byQualified.get(name);
  }

  /** The entries of one service. */
  forService(service: string): IndexEntry<T>[] {
    return this.entries.filter((entry) => entry.service === service);
  }
}

/**
 * Gives every entry whose exposed name is not safe its alias, in federation order; an alias
 * that is already a name (or an earlier alias) takes a longer digest. Clashes report the alias.
 */
function aliasUnsafe<T>(entries: IndexEntry<T>[], clashes: NameClash[]): void {
  const names = new Set(entries.map((entry) => entry.exposedName));
  for (const entry of entries) {
    if (isSafeToolName(entry.exposedName)) continue;
    let alias = toolAlias(entry.service, entry.upstreamName, entry.exposedName);
    for (let chars = 16; names.has(alias) && chars <= 48; chars += 8) alias = toolAlias(entry.service, entry.upstreamName, entry.exposedName, chars);
    for (const clash of clashes) if (clash.service === entry.service && clash.exposedAs === entry.exposedName) clash.exposedAs = alias;
    names.add(alias);
    entry.exposedName = alias;
    entry.aliased = true;
  }
}
