import { qualify } from '../model/naming.js';

/** What an allow-list is asked about: a federated item, by service and upstream name. */
export interface AllowListSubject {
  service: string;
  upstreamName: string;
  exposedName: string;
}

/**
 * A token's allow-list of tools (and later prompts and resources). An entry is an exposed
 * name (`getProductById`), a qualified name (`shopping-service__getProductById`), or a whole
 * service (`shopping-service__*`). A name is matched by what it refers to, so a tool
 * allowed by one of its names is allowed by all of them, and a clash that renames a tool
 * later never opens or closes access by accident.
 */
export class AllowList {
  readonly #names: ReadonlySet<string>;
  readonly #services: ReadonlySet<string>;

  constructor(entries: readonly string[]) {
    this.#names = new Set(entries.filter((entry) => !entry.endsWith('__*')));
    this.#services = new Set(entries.filter((entry) => entry.endsWith('__*')).map((entry) => entry.slice(0, -3)));
  }

  allows(subject: AllowListSubject): boolean {
    return this.#services.has(subject.service) || this.#names.has(qualify(subject.service, subject.upstreamName)) || this.#names.has(subject.exposedName);
  }
}
