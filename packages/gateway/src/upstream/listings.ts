import type { ServerCapabilities } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { EMPTY_LISTINGS, type Listings } from '../model/catalog.js';
import { checkListings, type ListKey, logRejected, MAX_REJECTED_KEPT } from '../model/intake.js';
import { InvalidAnswerError } from './errors.js';

export interface ListingLimits {
  /** Deadline of one list request. */
  timeoutMs: number;
  /** Items of one kind kept from one service; the rest are dropped with a warning. */
  maxItems: number;
  /** Longest description kept; longer ones are cut with a warning. */
  maxDescriptionChars: number;
}

const MAX_PAGES = 100;

/** Sends one list request on the service's session and resolves with its result. */
export type ListRequest = (method: string, params: Record<string, unknown> | undefined, timeoutMs: number) => Promise<Record<string, unknown>>;

const METHODS: Record<ListKey, string> = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
};
/** Keeps every field the service sent: a gateway must not drop what it does not know. */
const pageSchemas = Object.fromEntries(
  (Object.keys(METHODS) as ListKey[]).map((key) => [key, z.looseObject({ [key]: z.array(z.looseObject({})), nextCursor: z.string().optional() })]),
) as unknown as Record<ListKey, z.ZodType<Record<string, unknown> & { nextCursor?: string }>>;

/**
 * Lists everything a service offers, as its capabilities say: tools, prompts, resources
 * and resource templates, every page of each. Keeps a hostile or broken service from
 * flooding the catalog every client lists: item counts and descriptions are capped, and
 * every item is checked against the MCP schema; invalid ones are dropped with a warning
 * and listed in `rejected`, the rest kept.
 */
export async function listAll(
  request: ListRequest,
  capabilities: ServerCapabilities,
  service: string,
  limits: ListingLimits,
  logger: Logger,
): Promise<Listings> {
  const wanted: ListKey[] = [
    ...(capabilities.tools === undefined ? [] : (['tools'] as const)),
    ...(capabilities.prompts === undefined ? [] : (['prompts'] as const)),
    ...(capabilities.resources === undefined ? [] : (['resources', 'resourceTemplates'] as const)),
  ];
  const lists = await Promise.all(wanted.map((key) => listPaged(request, service, key, limits, logger)));
  const listed: Listings = { ...EMPTY_LISTINGS };
  wanted.forEach((key, index) => {
    (listed as unknown as Record<ListKey, unknown[]>)[key] = lists[index] ?? [];
  });
  const { listings, rejected } = checkListings(listed);
  if (rejected.length === 0) return listings;
  logRejected(service, rejected, logger);
  return { ...listings, rejected: rejected.slice(0, MAX_REJECTED_KEPT) };
}

async function listPaged(request: ListRequest, service: string, key: ListKey, limits: ListingLimits, logger: Logger): Promise<unknown[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  for (let page = 0; ; page += 1) {
    if (page === MAX_PAGES) {
      logger.warn({ service, list: key, pages: MAX_PAGES }, `${key} list of service "${service}" truncated: more than ${MAX_PAGES} pages`);
      break;
    }
    const answer = pageSchemas[key].safeParse(await request(METHODS[key], cursor === undefined ? undefined : { cursor }, limits.timeoutMs));
    if (!answer.success) throw new InvalidAnswerError(`the ${METHODS[key]} answer is not a list of ${key}: ${answer.error.issues[0]?.message ?? 'invalid'}`);
    const result = answer.data;
    items.push(...(result[key] as Record<string, unknown>[]));
    cursor = result.nextCursor;
    if (cursor === undefined || items.length > limits.maxItems) break;
  }
  return cap(items, service, key, limits, logger);
}

function cap(items: Record<string, unknown>[], service: string, key: ListKey, limits: ListingLimits, logger: Logger): Record<string, unknown>[] {
  const { maxItems, maxDescriptionChars } = limits;
  if (items.length > maxItems) {
    logger.warn({ service, list: key, listed: items.length, kept: maxItems }, `service "${service}" lists more than ${maxItems} ${key}; the rest are dropped`);
    items = items.slice(0, maxItems);
  }
  return items.map((item) => {
    const { description } = item;
    if (typeof description !== 'string' || description.length <= maxDescriptionChars) return item;
    const name = String(item['name'] ?? item['uri'] ?? item['uriTemplate']);
    logger.warn(
      { service, list: key, item: name, chars: description.length, kept: maxDescriptionChars },
      `description of ${key.replace(/s$/, '')} "${name}" of service "${service}" cut to ${maxDescriptionChars} characters`,
    );
    return { ...item, description: `${description.slice(0, maxDescriptionChars)}…` };
  });
}
