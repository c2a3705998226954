/**
 * The fixture's MCP server: every tool, resource and prompt the conformance suite's
 * server scenarios call, on one `McpServer`. One instance serves one 2025-era session
 * or one 2026-07-28 request.
 */
import { McpServer, type RequestStateCodec } from '@modelcontextprotocol/server';
import type { SkillCatalog } from '@modelcontextprotocol/server/ext/skills';
import { registerContentTools } from './content-tools.js';
import { type FlowState, registerInputRequiredFixtures } from './input-required.js';
import { registerInteractiveTools } from './interactive-tools.js';
import { type ListChanges, registerListChangeHooks } from './list-changes.js';
import { registerPrompts } from './prompts.js';
import { registerResources, registerSubscriptions } from './resources.js';
import { registerTasks, type TaskStore } from './tasks.js';

export const FIXTURE_INFO = { name: 'meshgate-conformance-fixture', version: '0.1.0' };

/** What every server instance of one fixture process shares. */
export interface FixtureShared {
  /** The codec of `requestState` (input-required.ts): the SDK verifies every echoed state with it before a handler runs. */
  requestState: RequestStateCodec<FlowState>;
  /** The tasks (tasks.ts): the extension's on the 2026-07-28 path, 2025-11-25 tasks on a 2025-era session. */
  tasks: TaskStore;
  /** The skills of the skills extension (skills.ts). */
  skills: SkillCatalog;
  /** What the list-change hooks (list-changes.ts) changed. */
  lists: ListChanges;
}

export function createFixtureServer(shared: FixtureShared, era: 'legacy' | 'modern' = 'legacy'): McpServer {
  const server = new McpServer(FIXTURE_INFO, {
    // No `tools` here: McpServer then installs its tools/call dispatch with the first tool
    // (declaring tools.listChanged), after registerTasks has wrapped it.
    capabilities: { logging: {}, completions: {}, prompts: { listChanged: true } },
    requestState: { verify: shared.requestState.verify },
  });
  registerTasks(server, shared.tasks, era);
  registerContentTools(server);
  registerInteractiveTools(server);
  registerResources(server);
  // Subscriptions belong to a session; 2026-07-28 clients use subscriptions/listen instead.
  if (era === 'legacy') registerSubscriptions(server);
  registerPrompts(server);
  registerInputRequiredFixtures(server, shared.requestState);
  shared.skills.attach(server);
  registerListChangeHooks(server, shared.lists, era);
  return server;
}
