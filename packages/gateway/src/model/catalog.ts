import { type Prompt, type Resource, type ResourceTemplateType as ResourceTemplate, type Tool, UriTemplate } from '@modelcontextprotocol/server';
import type { RejectedItem } from './intake.js';
import { type IndexEntry, ItemIndex, type NameClash, type Origin } from './item-index.js';
import { byName, byUri, byUriTemplate, type Qualified, unqualifyUri } from './naming.js';

/** Everything a service lists. */
export interface Listings {
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  /** Items the service listed that failed the MCP schema and were dropped (model/intake.ts). */
  rejected?: readonly RejectedItem[];
}

export const EMPTY_LISTINGS: Listings = Object.freeze({ tools: [], prompts: [], resources: [], resourceTemplates: [] }) as unknown as Listings;

/** What one service contributes to the federated catalog, in federation order. */
export interface ServiceListings {
  service: string;
  listings: Listings;
  origin: Origin;
  /** Tools renamed by an override: surfaced name -> upstream name (model/overrides.ts). */
  upstreamOf?: ReadonlyMap<string, string>;
}

export type CatalogKind = 'tool' | 'prompt' | 'resource' | 'resourceTemplate';
export type CatalogClash = NameClash & { kind: CatalogKind };
export type CatalogEntry = IndexEntry<Tool>;

interface CatalogParts {
  tools: ItemIndex<Tool>;
  prompts: ItemIndex<Prompt>;
  resources: ItemIndex<Resource>;
  resourceTemplates: ItemIndex<ResourceTemplate>;
  clashes: readonly CatalogClash[];
}

/**
 * The federated catalog: tools, prompts, resources and resource templates of every
 * service merged into one view, rebuilt when a service's listings change and read on
 * every request. Names and URIs stay as they are when unique; clashes get the
 * reversible namespaces of naming.ts.
 */
export class Catalog {
  readonly tools: ItemIndex<Tool>;
  readonly prompts: ItemIndex<Prompt>;
  readonly resources: ItemIndex<Resource>;
  readonly resourceTemplates: ItemIndex<ResourceTemplate>;
  readonly clashes: readonly CatalogClash[];
  /** Whether some tool can only be called as a task (`execution.taskSupport: "required"`): such tools are not listed to clients before tasks. */
  readonly hasTaskOnlyTools: boolean;
  /** Compiled templates, in federation order, for routing URIs that no listing names. */
  readonly #templates: { entry: IndexEntry<ResourceTemplate>; template: UriTemplate | undefined }[];

  private constructor(parts: CatalogParts) {
    this.tools = parts.tools;
    this.prompts = parts.prompts;
    this.resources = parts.resources;
    this.resourceTemplates = parts.resourceTemplates;
    this.clashes = parts.clashes;
    this.#templates = this.resourceTemplates.entries.map((entry) => ({ entry, template: compile(entry.upstreamName) }));
    this.hasTaskOnlyTools = this.tools.items.some((tool) => (tool as { execution?: { taskSupport?: unknown } }).execution?.taskSupport === 'required');
  }

  /** Builds the catalog; with `previous`, bare names stay with the services holding them there (ItemIndex.build). */
  static build(services: readonly ServiceListings[], previous?: Catalog): Catalog {
    const of = <T>(pick: (listings: Listings) => readonly T[]) => services.map(({ service, listings, origin }) => ({ service, origin, items: pick(listings) }));
    const tools = ItemIndex.build(
      services.map(({ service, listings, origin, upstreamOf }) => ({
        service,
        origin,
        items: listings.tools,
        ...(upstreamOf === undefined ? {} : { upstreamOf }),
      })),
      byName<Tool>(),
      previous?.tools.claims,
      { safeNames: true },
    );
    const prompts = ItemIndex.build(
      of((l) => l.prompts),
      byName<Prompt>(),
      previous?.prompts.claims,
    );
    const resources = ItemIndex.build(
      of((l) => l.resources),
      byUri<Resource>(),
      previous?.resources.claims,
    );
    const resourceTemplates = ItemIndex.build(
      of((l) => l.resourceTemplates),
      byUriTemplate<ResourceTemplate>(),
      previous?.resourceTemplates.claims,
    );
    const clashes = [
      ...tools.clashes.map((clash) => ({ ...clash, kind: 'tool' as const })),
      ...prompts.clashes.map((clash) => ({ ...clash, kind: 'prompt' as const })),
      ...resources.clashes.map((clash) => ({ ...clash, kind: 'resource' as const })),
      ...resourceTemplates.clashes.map((clash) => ({ ...clash, kind: 'resourceTemplate' as const })),
    ];
    return new Catalog({ tools, prompts, resources, resourceTemplates, clashes });
  }

  static readonly empty = Catalog.build([]);

  /**
   * The part of this catalog that `keep` picks, per kind, under the same names (a virtual
   * server's view): built once per catalog by whoever holds the selection, never per request.
   */
  select(keep: Record<CatalogKind, (entry: IndexEntry<unknown>) => boolean>): Catalog {
    return new Catalog({
      tools: this.tools.subset(keep.tool),
      prompts: this.prompts.subset(keep.prompt),
      resources: this.resources.subset(keep.resource),
      resourceTemplates: this.resourceTemplates.subset(keep.resourceTemplate),
      clashes: [],
    });
  }

  /** This catalog with `tools` in place of its tools (a virtual server's view with overrides applied). */
  withTools(tools: ItemIndex<Tool>): Catalog {
    return new Catalog({ tools, prompts: this.prompts, resources: this.resources, resourceTemplates: this.resourceTemplates, clashes: this.clashes });
  }

  /**
   * The service that serves `uri` and the URI to send it: the qualified form names its
   * service; a listed resource goes to its owner; otherwise the first template (in
   * federation order) that matches it.
   */
  resolveResource(uri: string): Qualified | undefined {
    const listed = this.resources.resolve(uri);
    if (listed !== undefined) return { service: listed.service, upstreamName: listed.upstreamName };
    const qualified = unqualifyUri(uri);
    if (qualified !== undefined) {
      const known = this.#templates.some(({ entry }) => entry.service === qualified.service) || this.resources.forService(qualified.service).length > 0;
      return known ? qualified : undefined;
    }
    for (const { entry, template } of this.#templates) {
      if (template?.match(uri) != null) return { service: entry.service, upstreamName: uri };
    }
    return undefined;
  }

  /** Every entry of one service, for `/services`. */
  forService(service: string) {
    return {
      tools: this.tools.forService(service),
      prompts: this.prompts.forService(service),
      resources: this.resources.forService(service),
      resourceTemplates: this.resourceTemplates.forService(service),
    };
  }
}

function compile(uriTemplate: string): UriTemplate | undefined {
  try {
    return new UriTemplate(uriTemplate);
  } catch {
    return undefined; // a template the SDK cannot parse still lists; it just routes nothing
  }
}
