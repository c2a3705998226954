import { qualify } from '../model/naming.js';

/** What an allow-list is asked about: a federated item, by service and upstream name (and, for annotation selectors, the item). */
export interface AllowListSubject {
  service: string;
  upstreamName: string;
  exposedName: string;
  /** Its name once an override renamed it (model/overrides.ts); its qualified form names it too. */
  surfacedName?: string;
  /** The item as listed; annotation selectors (`@readOnlyHint`) read its `annotations`. */
  item?: unknown;
}

/** `@readOnlyHint`, `@destructiveHint=false`: an annotation that must be true (or the value given). */
const ANNOTATION = /^@([A-Za-z][A-Za-z0-9_]{0,63})(?:=(true|false))?$/;
const GLOB = /[*?]/;

/**
 * Why a selector is not one, or undefined when it is: an empty one, an annotation selector
 * that names no annotation key, more than 200 characters. Config and the admin API report
 * this against the entry.
 */
export function selectorProblem(entry: string): string | undefined {
  if (entry.length === 0) return 'is empty';
  if (entry.length > 200) return 'is longer than 200 characters';
  if (entry.startsWith('@') && !ANNOTATION.test(entry)) return 'is not an annotation selector like "@readOnlyHint" or "@destructiveHint=false"';
  return undefined;
}

/** `user-service__get*` -> /^user-service__get.*$/: only `*` (any run) and `?` (one character) are special. */
function globPattern(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/**
 * A list of selectors: a token's allow-list of tools, and the selection of a virtual
 * server. An entry is
 * - an exposed name (`getProductById`) or a qualified name (`shopping-service__getProductById`),
 * - a whole service (`shopping-service__*`),
 * - a glob over exposed and qualified names (`*User*`, `user-service__get*`; `*` and `?`),
 * - an annotation (`@readOnlyHint`, `@destructiveHint=false`): the item's `annotations` say so.
 * An item is allowed when any entry matches it. A name is matched by what it refers to, so
 * a tool allowed by one of its names is allowed by all of them, and a clash that renames a
 * tool later never opens or closes access by accident.
 * A tool an override renamed answers to its upstream name's qualified form and to its
 * new name's, bare or qualified.
 */
export class AllowList {
  readonly #names: ReadonlySet<string>;
  readonly #services: ReadonlySet<string>;
  readonly #globs: readonly RegExp[];
  readonly #annotations: readonly { key: string; value: boolean }[];

  constructor(readonly entries: readonly string[]) {
    const names = new Set<string>();
    const services = new Set<string>();
    const globs: RegExp[] = [];
    const annotations: { key: string; value: boolean }[] = [];
    for (const entry of entries) {
      const annotation = ANNOTATION.exec(entry);
      if (annotation !== null) annotations.push({ key: annotation[1] as string, value: annotation[2] !== 'false' });
      else if (entry.endsWith('__*') && !GLOB.test(entry.slice(0, -3))) services.add(entry.slice(0, -3));
      else if (GLOB.test(entry)) globs.push(globPattern(entry));
      else names.add(entry);
    }
    this.#names = names;
    this.#services = services;
    this.#globs = globs;
    this.#annotations = annotations;
  }

  allows(subject: AllowListSubject): boolean {
    if (this.#services.has(subject.service)) return true;
    const qualified = qualify(subject.service, subject.upstreamName);
    if (this.#names.has(qualified) || this.#names.has(subject.exposedName)) return true;
    const { surfacedName } = subject;
    if (surfacedName !== undefined && surfacedName !== subject.upstreamName && this.#names.has(qualify(subject.service, surfacedName))) return true;
    for (const glob of this.#globs) if (glob.test(subject.exposedName) || glob.test(qualified)) return true;
    if (this.#annotations.length > 0) {
      const annotations = (subject.item as { annotations?: Record<string, unknown> } | undefined)?.annotations;
      if (annotations !== undefined && annotations !== null) {
        for (const { key, value } of this.#annotations) if (annotations[key] === value) return true;
      }
    }
    return false;
  }
}
