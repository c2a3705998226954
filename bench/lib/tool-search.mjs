/**
 * The tool_search workload (issue 16): on the generated catalog of 1,000 tools from 10
 * services (tool-catalog.mjs), the tokens a client reads for `tools/list` against the
 * search path (the two gateway tools listed, then one `search_tools` answer of 5 tools per
 * query), and recall@1 and @5 over the fixed queries. Counted with gpt-tokenizer
 * (o200k_base, the encoding of OpenAI's current models) over the JSON-RPC answers as the
 * gateway writes them, built by the gateway's own code (its dist): the catalog, the list
 * page, the search index and `search_tools`.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { countTokens } from 'gpt-tokenizer';
import { REPO_ROOT } from './mesh.mjs';
import { generateCatalog, QUERIES } from './tool-catalog.mjs';

const dist = (path) => import(pathToFileURL(join(REPO_ROOT, 'packages/gateway/dist', path)).href);

export async function runToolSearch({ log }) {
  const [{ Catalog }, { ToolSearch, SEARCH_MODE_TOOLS, searchTools }, { DEFAULT_PAGE_SIZE }] = await Promise.all([
    dist('model/catalog.js'),
    dist('federation/tool-search.js'),
    dist('federation/federation.js'),
  ]);
  const services = generateCatalog().map(({ service, tools }) => ({
    service,
    origin: 'live',
    listings: { tools, prompts: [], resources: [], resourceTemplates: [] },
  }));
  const catalog = Catalog.build(services);
  const answer = (result) => JSON.stringify({ jsonrpc: '2.0', id: 1, result });
  // tools/list as a client of the whole catalog reads it: every page (1,000 tools fit one page by default).
  const listTokens = countTokens(answer({ tools: catalog.tools.items.slice(0, DEFAULT_PAGE_SIZE) }));
  const searchListTokens = countTokens(answer(SEARCH_MODE_TOOLS));
  const search = new ToolSearch(catalog.tools);
  let hits1 = 0;
  let hits5 = 0;
  let answerTokens = 0;
  for (const [query, expected] of QUERIES) {
    const found = search.search(query, 5, undefined).map((entry) => entry.exposedName);
    if (found[0] === expected) hits1 += 1;
    if (found.includes(expected)) hits5 += 1;
    answerTokens += countTokens(answer(searchTools(search, undefined, { query, limit: 5 })));
  }
  const perQuery = answerTokens / QUERIES.length;
  const result = {
    tools: catalog.tools.entries.length,
    services: services.length,
    queries: QUERIES.length,
    listTokens,
    searchListTokens,
    searchAnswerTokens: perQuery,
    searchPathTokens: searchListTokens + perQuery,
    recallAt1: hits1 / QUERIES.length,
    recallAt5: hits5 / QUERIES.length,
  };
  log(
    `tool_search: tools/list ${listTokens} tokens; search path ${Math.round(result.searchPathTokens)} tokens (list ${searchListTokens} + one search ${Math.round(perQuery)}); recall@1 ${result.recallAt1.toFixed(2)}, recall@5 ${result.recallAt5.toFixed(2)} over ${QUERIES.length} queries`,
  );
  return result;
}

/** The report's rows: measured, no target but the recall floor the test keeps (tool-search.test.ts). */
export function toolSearchTargets(t) {
  if (t === undefined) return [];
  return [
    {
      id: 'tool_search_tokens',
      text: `tokens a client reads, ${t.tools} tools from ${t.services} services: tools/list vs search path (2 tools listed + one search_tools answer of 5) (reported; no target)`,
      value: t.searchPathTokens / t.listTokens,
      measured: `${t.listTokens} vs ${Math.round(t.searchPathTokens)} (${(t.listTokens / t.searchPathTokens).toFixed(0)}× fewer)`,
      met: true,
    },
    {
      id: 'tool_search_recall',
      text: `search_tools recall over ${t.queries} fixed queries: recall@5 ≥ 0.72 (the test's floor)`,
      value: t.recallAt5,
      measured: `recall@1 ${t.recallAt1.toFixed(2)}, recall@5 ${t.recallAt5.toFixed(2)}`,
      met: t.recallAt5 >= 0.72,
    },
  ];
}
