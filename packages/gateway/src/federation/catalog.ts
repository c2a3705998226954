import type { Tool } from '@modelcontextprotocol/server';
import { qualify, unqualify } from './naming.js';

/** The tools one service contributes, in federation order. */
export interface ServiceTools {
  service: string;
  tools: readonly Tool[];
  /** `live` when listed from the running service, `fallback` when from config or the last catalog seen. */
  origin: 'live' | 'fallback';
}

/** One federated tool: how clients see it and where it goes. */
export interface CatalogEntry {
  exposedName: string;
  service: string;
  upstreamName: string;
  origin: 'live' | 'fallback';
  /** The upstream definition with `name` set to the exposed name; everything else untouched. */
  tool: Tool;
}

/** A name two services both brought: who kept it, and what the newcomer got instead. */
export interface NameClash {
  name: string;
  owner: string;
  service: string;
  exposedAs: string;
}

/**
 * The federated tool catalog: built once whenever a service's tools change, read on
 * every request. Resolution is exact: an exposed name, or any tool's qualified form.
 */
export class Catalog {
  readonly tools: readonly Tool[];
  readonly entries: readonly CatalogEntry[];
  readonly clashes: readonly NameClash[];
  readonly #byExposed: Map<string, CatalogEntry>;
  readonly #byQualified: Map<string, CatalogEntry>;

  private constructor(entries: CatalogEntry[], clashes: NameClash[]) {
    this.entries = entries;
    this.clashes = clashes;
    this.tools = entries.map((entry) => entry.tool);
    this.#byExposed = new Map(entries.map((entry) => [entry.exposedName, entry]));
    this.#byQualified = new Map(entries.map((entry) => [qualify(entry.service, entry.upstreamName), entry]));
  }

  static readonly empty = new Catalog([], []);

  /**
   * Merges the services' tools in the order given (configured services first, then
   * registration order): the first service to bring a name keeps it bare. A bare name
   * that spells another service's qualified name is qualified too, so that
   * `<service>__<tool>` always means that service's tool.
   */
  static build(services: readonly ServiceTools[]): Catalog {
    const qualifiedNames = new Set<string>();
    for (const { service, tools } of services) for (const tool of tools) qualifiedNames.add(qualify(service, tool.name));

    const entries: CatalogEntry[] = [];
    const clashes: NameClash[] = [];
    const owners = new Map<string, string>();
    const seen = new Set<string>();
    for (const { service, tools, origin } of services) {
      for (const tool of tools) {
        const upstreamName = tool.name;
        const ownName = qualify(service, upstreamName);
        if (seen.has(ownName)) continue; // a service listing one name twice: keep the first
        seen.add(ownName);
        const owner = owners.get(upstreamName) ?? (qualifiedNames.has(upstreamName) && upstreamName !== ownName ? unqualify(upstreamName)?.service : undefined);
        let exposedName = upstreamName;
        if (owner === undefined) {
          owners.set(upstreamName, service);
        } else {
          exposedName = ownName;
          clashes.push({ name: upstreamName, owner, service, exposedAs: exposedName });
        }
        entries.push({ exposedName, service, upstreamName, origin, tool: exposedName === upstreamName ? tool : { ...tool, name: exposedName } });
      }
    }
    return new Catalog(entries, clashes);
  }

  /** Finds the tool a client means by `name`: exposed first, then the qualified form. */
  resolve(name: string): CatalogEntry | undefined {
    return this.#byExposed.get(name) ?? this.#byQualified.get(name);
  }

  /** The entries of one service. */
  forService(service: string): CatalogEntry[] {
    return this.entries.filter((entry) => entry.service === service);
  }
}
