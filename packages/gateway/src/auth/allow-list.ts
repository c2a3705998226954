import { qualify } from '../model/naming.js';

/** What an allow-list is asked about: a federated item, by service and upstream name. */
export interface AllowListSubject {
  service: string;
  upstreamName: string;
  exposedName: string;
  /** Its name once an override renamed it (model/overrides.ts); its qualified form names it too. */
  surfacedName?: string;
}

/**
 * A token's allow-list of tools (and later prompts and resources). An entry is an exposed
 * name (`getProductById`), a qualified name (`shopping-service__getProductById`), or a whole
 * service (`shopping-service__*`). A name is matched by what it refers to, so a tool
 * allowed by one of its names is allowed by all of them, and a clash that renames a tool
 * later never opens or closes access by accident. A tool an override renamed answers to
 * its upstream name's qualified form and to its new name's, bare or qualified.
 */
export class AllowList {
  readonly #names: ReadonlySet<string>;
  readonly #services: ReadonlySet<string>;

  constructor(entries: readonly string[]) {
    this.#names = new Set(entries.filter((entry) => !entry.endsWith('__*')));
    this.#services = new Set(entries.filter((entry) => entry.endsWith('__*')).map((entry) => entry.slice(0, -3)));
  }

  allows(subject: AllowListSubject): boolean {
    const { service, upstreamName, exposedName, surfacedName } = subject;
    return (
      this.#services.has(service) ||
      this.#names.has(qualify(service, upstreamName)) ||
      this.#names.has(exposedName) ||
      (surfacedName !== undefined && surfacedName !== upstreamName && this.#names.has(qualify(service, surfacedName)))
    );
  }
}
