/**
 * The fixture's MCP server: every tool, resource and prompt the conformance suite's
 * server scenarios call, on one `McpServer`. One instance serves one 2025-era session
 * or one 2026-07-28 request.
 */
import { McpServer, type RequestStateCodec } from '@modelcontextprotocol/server';
import { registerContentTools } from './content-tools.js';
import { type FlowState, registerInputRequiredFixtures } from './input-required.js';
import { registerInteractiveTools } from './interactive-tools.js';
import { registerPrompts } from './prompts.js';
import { registerResources, registerSubscriptions } from './resources.js';

export const FIXTURE_INFO = { name: 'meshgate-conformance-fixture', version: '0.1.0' };

/**
 * `requestState` is the process's codec (input-required.ts): the SDK verifies every echoed
 * state with it before a handler runs, so every server instance must share it.
 */
export function createFixtureServer(requestState: RequestStateCodec<FlowState>, era: 'legacy' | 'modern' = 'legacy'): McpServer {
  const server = new McpServer(FIXTURE_INFO, {
    capabilities: { logging: {}, completions: {}, tools: { listChanged: true }, prompts: { listChanged: true } },
    requestState: { verify: requestState.verify },
  });
  registerContentTools(server);
  registerInteractiveTools(server);
  registerResources(server);
  // Subscriptions belong to a session; 2026-07-28 clients use subscriptions/listen instead.
  if (era === 'legacy') registerSubscriptions(server);
  registerPrompts(server);
  registerInputRequiredFixtures(server, requestState);
  return server;
}
