import type { Tool } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { generateCatalog, QUERIES } from '../../../../bench/lib/tool-catalog.mjs';
import { AllowList } from '../auth/allow-list.js';
import { Catalog } from '../model/catalog.js';
import { SEARCH_MODE_TOOLS, searchTools, ToolSearch, unwrapCall } from './tool-search.js';

/**
 * Recall@5 over the fixed queries written for the generated 1,000-tool catalog
 * (bench/lib/tool-catalog.mjs); measured at 0.76 (47 of 62) when written
 * (docs/tool-surfaces.md): lexical ranking cannot know that a "tweet" is a social post.
 * The floor keeps a change of tokenizer, fields or options from quietly making search worse.
 */
const RECALL_AT_5_FLOOR = 0.72;

const catalog = Catalog.build(
  generateCatalog().map(({ service, tools }) => ({
    service,
    origin: 'live' as const,
    listings: { tools: tools as Tool[], prompts: [], resources: [], resourceTemplates: [] },
  })),
);

describe('ToolSearch', () => {
  const search = new ToolSearch(catalog.tools);

  it(`finds the expected tool in the top 5 for at least ${RECALL_AT_5_FLOOR * 100}% of ${QUERIES.length} queries`, () => {
    expect(QUERIES.length).toBeGreaterThanOrEqual(50);
    const missed = QUERIES.filter(([query, expected]) => !search.search(query, 5, undefined).some((entry) => entry.exposedName === expected));
    const recall = 1 - missed.length / QUERIES.length;
    expect(recall, `missed: ${missed.map(([query]) => query).join(' | ')}`).toBeGreaterThanOrEqual(RECALL_AT_5_FLOOR);
  });

  it('returns only what the allow-list lets the caller use', () => {
    const found = search.search('refund', 20, new AllowList(['support__*', 'createRefund']));
    expect(found.map((entry) => entry.exposedName)).toContain('createRefund');
    expect(found.every((entry) => entry.exposedName === 'createRefund' || entry.service === 'support')).toBe(true);
  });

  it('answers search_tools with names, descriptions and input schemas, and checks its arguments', () => {
    const result = searchTools(search, undefined, { query: 'print a postage label', limit: 2 }) as { structuredContent: { tools: Tool[] } };
    expect(result.structuredContent.tools).toHaveLength(2);
    expect(result.structuredContent.tools[0]).toMatchObject({ name: 'createLabel', inputSchema: { type: 'object' } });
    expect(() => searchTools(search, undefined, { query: 'x', limit: 0 })).toThrow(/"limit" must be an integer from 1 to 20/);
    expect(() => searchTools(search, undefined, {})).toThrow(/needs "query"/);
  });

  it('turns call_tool into the tools/call it names, keeping _meta', () => {
    const params = { name: 'call_tool', arguments: { name: 'getInvoice', arguments: { id: '1' } }, _meta: { progressToken: 7 } };
    expect(unwrapCall(params)).toEqual({ name: 'getInvoice', arguments: { id: '1' }, _meta: { progressToken: 7 } });
    expect(() => unwrapCall({ name: 'call_tool', arguments: { name: 'search_tools' } })).toThrow(/calls a tool of the catalog/);
    expect(() => unwrapCall({ name: 'call_tool', arguments: { name: 'getInvoice', arguments: [1] } })).toThrow(/must be an object/);
  });

  it('lists two gateway tools in search mode', () => {
    expect((SEARCH_MODE_TOOLS['tools'] as Tool[]).map((tool) => tool.name)).toEqual(['search_tools', 'call_tool']);
  });
});
