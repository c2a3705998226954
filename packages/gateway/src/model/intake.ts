/**
 * What a service's listing may contribute: each tool, prompt, resource and resource
 * template is checked against the MCP schema (the SDK's own spec schemas) before it
 * reaches the federated catalog. One malformed item would otherwise make SDK clients
 * refuse the whole `tools/list` of every service, so an invalid item is dropped and
 * recorded, and the rest of the listing is kept.
 */
import { specTypeSchemas } from '@modelcontextprotocol/server';
import type { Listings } from './catalog.js';

/** The kinds of listed items, as `/services` names them. */
export type ItemKind = 'tool' | 'prompt' | 'resource' | 'resourceTemplate';

/** An item a service listed that the gateway did not take, and why. */
export interface RejectedItem {
  kind: ItemKind;
  /** Its name (or URI), when it had a readable one. */
  name?: string;
  reason: string;
}

/** Listings with the items that passed, and what was dropped. */
export interface CheckedListings {
  listings: Listings;
  rejected: RejectedItem[];
}

/** The four lists of a listing. */
export type ListKey = Exclude<keyof Listings, 'rejected'>;
const KINDS: Record<ListKey, ItemKind> = { tools: 'tool', prompts: 'prompt', resources: 'resource', resourceTemplates: 'resourceTemplate' };
const SCHEMAS = {
  tools: specTypeSchemas.Tool,
  prompts: specTypeSchemas.Prompt,
  resources: specTypeSchemas.Resource,
  resourceTemplates: specTypeSchemas.ResourceTemplate,
} as const;
const KEY_FIELD: Record<ListKey, string> = { tools: 'name', prompts: 'name', resources: 'uri', resourceTemplates: 'uriTemplate' };
/** Rejected items kept per listing for `/services`; a flood of bad items is counted, not kept. */
export const MAX_REJECTED_KEPT = 50;
const MAX_NAME_CHARS = 120;
const MAX_REASON_CHARS = 200;

/** A short, printable label for an item, or undefined when it has none worth showing. */
function labelOf(item: unknown, key: ListKey): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const value = (item as Record<string, unknown>)[KEY_FIELD[key]];
  if (typeof value !== 'string' || value === '') return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > MAX_NAME_CHARS ? `${clean.slice(0, MAX_NAME_CHARS)}…` : clean;
}

type Issue = { readonly message: string; readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined };

/** Why the schema refused an item: the first issue, with where it is. */
function reasonOf(issues: readonly Issue[]): string {
  const issue = issues[0];
  if (issue === undefined) return 'invalid';
  const where = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.');
  const reason = `${where === '' ? '' : `${where}: `}${issue.message}`;
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason;
}

/**
 * Splits one service's listings into valid items (kept exactly as sent: a gateway must not
 * drop fields it does not know) and rejected ones. Pure; the caller logs.
 */
export function checkListings(listings: Listings): CheckedListings {
  const rejected: RejectedItem[] = [];
  const checked = {} as Record<ListKey, unknown[]>;
  for (const key of Object.keys(KINDS) as ListKey[]) {
    const items = (listings[key] ?? []) as unknown[];
    checked[key] = items.filter((item) => {
      const result = SCHEMAS[key]['~standard'].validate(item);
      if (result.issues === undefined) return true;
      const name = labelOf(item, key);
      rejected.push({ kind: KINDS[key], ...(name === undefined ? {} : { name }), reason: reasonOf(result.issues) });
      return false;
    });
  }
  return { listings: checked as unknown as Listings, rejected };
}

/** One log line per rejected item (up to a bound), naming the service and the item. */
export function logRejected(service: string, rejected: readonly RejectedItem[], logger: { warn(obj: object, msg: string): void }, where = 'its listing'): void {
  for (const item of rejected.slice(0, MAX_REJECTED_KEPT)) {
    logger.warn(
      { service, kind: item.kind, item: item.name, reason: item.reason },
      `dropped ${item.kind} ${item.name === undefined ? '(unnamed)' : `"${item.name}"`} of service "${service}" from ${where}: ${item.reason}`,
    );
  }
  if (rejected.length > MAX_REJECTED_KEPT) {
    logger.warn({ service, rejected: rejected.length }, `service "${service}": ${rejected.length - MAX_REJECTED_KEPT} more invalid items dropped`);
  }
}
