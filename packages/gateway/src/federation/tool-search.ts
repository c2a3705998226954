import type { Tool } from '@modelcontextprotocol/server';
import MiniSearch from 'minisearch';
import type { AllowList } from '../auth/allow-list.js';
import { GatewayError } from '../errors.js';
import type { IndexEntry, ItemIndex } from '../model/item-index.js';
import type { Params, Result } from './context.js';

/** The gateway's own tools of a virtual server in search mode: what its clients list in place of the catalog. */
export const SEARCH_TOOL = 'search_tools';
export const CALL_TOOL = 'call_tool';
export const DEFAULT_SEARCH_LIMIT = 5;
export const MAX_SEARCH_LIMIT = 20;
const MAX_QUERY_LENGTH = 500;

const SEARCH_DEFINITION: Tool = {
  name: SEARCH_TOOL,
  title: 'Search tools',
  description:
    'Find the tools of this server that fit a task. Give a few words of what you want to do (for example "refund an order" or "user by email"); ' +
    `returns up to "limit" tools (default ${DEFAULT_SEARCH_LIMIT}), best first, each with its name, description and input schema. Then call one with ${CALL_TOOL}.`,
  inputSchema: {
    type: 'object',
    properties: {
      query: { type: 'string', description: 'What you want to do, in a few words' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_SEARCH_LIMIT, description: `How many tools to return (default ${DEFAULT_SEARCH_LIMIT})` },
    },
    required: ['query'],
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};
const CALL_DEFINITION: Tool = {
  name: CALL_TOOL,
  title: 'Call a tool',
  description: `Call a tool that ${SEARCH_TOOL} found, by its exact name, with arguments that fit its input schema.`,
  inputSchema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: `The tool's name, as ${SEARCH_TOOL} returned it` },
      arguments: { type: 'object', description: "The tool's arguments", additionalProperties: true },
    },
    required: ['name'],
  },
};
const GATEWAY_TOOLS: readonly Tool[] = Object.freeze([SEARCH_DEFINITION, CALL_DEFINITION]);

/** `tools/list` of a search-mode server: its two gateway tools, one frozen page. */
export const SEARCH_MODE_TOOLS: Readonly<Result> = Object.freeze({ tools: GATEWAY_TOOLS });

/**
 * Splits names and prose into search terms: on anything not a letter or digit and at
 * camelCase humps (`getUserById` -> get, user, by, id), lowercased, a plural `s` dropped,
 * so `orders` finds `getOrder`. The same for the index and for queries.
 */
function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((term) => term.length > 0);
}

function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (STOP_WORDS.has(lower)) return null;
  return lower.length > 3 && lower.endsWith('s') && !lower.endsWith('ss') ? lower.slice(0, -1) : lower;
}

const STOP_WORDS = new Set(['a', 'an', 'the', 'of', 'to', 'for', 'and', 'or', 'in', 'on', 'with', 'is', 'it', 'this', 'that', 'me', 'my', 'i']);

interface Document {
  id: number;
  name: string;
  title: string;
  description: string;
  params: string;
}

function documentOf(entry: IndexEntry<Tool>, id: number): Document {
  const { item } = entry;
  const properties = (item.inputSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return {
    id,
    name: entry.exposedName,
    title: item.title ?? item.annotations?.title ?? '',
    description: typeof item.description === 'string' ? item.description : '',
    params: properties === undefined || properties === null ? '' : Object.keys(properties).join(' '),
  };
}

/**
 * The search index of one view's tools (BM25+, by minisearch): names, titles,
 * descriptions and parameter names. Built once per catalog (virtual-servers.ts keeps one
 * per view), so a query costs a lookup, never an index build.
 */
export class ToolSearch {
  readonly #index: MiniSearch<Document>;
  readonly #entries: readonly IndexEntry<Tool>[];

  constructor(tools: ItemIndex<Tool>) {
    this.#entries = tools.entries;
    this.#index = new MiniSearch<Document>({
      fields: ['name', 'title', 'description', 'params'],
      tokenize,
      processTerm,
      // No field boosts: on the bench's catalog, boosting names or titles lowered recall@5 (docs/tool-surfaces.md).
      searchOptions: { prefix: (term) => term.length > 3, fuzzy: (term) => (term.length > 5 ? 0.2 : false) },
    });
    this.#index.addAll(this.#entries.map(documentOf));
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The best `limit` tools for `query` that `allowList` lets the caller use, best first. */
  search(query: string, limit: number, allowList: AllowList | undefined): IndexEntry<Tool>[] {
    const found: IndexEntry<Tool>[] = [];
    for (const hit of this.#index.search(query)) {
      const entry = this.#entries[hit.id as number];
      if (entry === undefined || (allowList !== undefined && !allowList.allows(entry))) continue;
      found.push(entry);
      if (found.length === limit) break;
    }
    return found;
  }
}

/** `search_tools`: the matches as structured content and as JSON text (for clients that read only text). */
export function searchTools(search: ToolSearch, allowList: AllowList | undefined, args: unknown): Result {
  const { query, limit } = searchArguments(args);
  const tools = search.search(query, limit, allowList).map(({ exposedName, item }) => ({
    name: exposedName,
    ...(item.title === undefined ? {} : { title: item.title }),
    ...(item.description === undefined ? {} : { description: item.description }),
    inputSchema: item.inputSchema,
  }));
  const structuredContent = { tools };
  return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
}

function searchArguments(args: unknown): { query: string; limit: number } {
  const { query, limit } = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '')
    throw new GatewayError('invalid_body', `Invalid params: ${SEARCH_TOOL} needs "query", a non-empty string`);
  if (query.length > MAX_QUERY_LENGTH) throw new GatewayError('invalid_body', `Invalid params: "query" is longer than ${MAX_QUERY_LENGTH} characters`);
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)) {
    throw new GatewayError('invalid_body', `Invalid params: "limit" must be an integer from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  return { query, limit: limit ?? DEFAULT_SEARCH_LIMIT };
}

/**
 * `call_tool` as the `tools/call` it stands for: the named tool with its arguments, and
 * everything else of the request (`_meta` with its progress token, `task`) kept, so it is
 * routed, observed and audited exactly as a `tools/call` of that tool.
 */
export function unwrapCall(params: Params): Result {
  const args = (params?.['arguments'] ?? {}) as Record<string, unknown>;
  const name = args['name'];
  if (typeof name !== 'string' || name === '') throw new GatewayError('invalid_body', `Invalid params: ${CALL_TOOL} needs "name", the tool to call`);
  if (name === SEARCH_TOOL || name === CALL_TOOL)
    throw new GatewayError('invalid_body', `Invalid params: ${CALL_TOOL} calls a tool of the catalog, not "${name}"`);
  const inner = args['arguments'];
  if (inner !== undefined && (typeof inner !== 'object' || inner === null || Array.isArray(inner))) {
    throw new GatewayError('invalid_body', `Invalid params: ${CALL_TOOL}'s "arguments" must be an object`);
  }
  return { ...params, name, arguments: inner ?? {} };
}
