/**
 * The diagnostic hooks `server-stateless` calls to change the lists while a
 * `subscriptions/listen` stream is open: `test_trigger_tool_change` adds or removes
 * `test_dynamic_tool`, `test_trigger_prompt_change` adds or removes `test_dynamic_prompt`.
 * The lists are the process's (every per-request server reads them); 2026-07-28 listen
 * streams hear of a change through the handler's notifier, a 2025-era session through its
 * own server (McpServer sends `list_changed` when a tool or prompt is added or removed).
 */
import type { McpServer, RegisteredPrompt, RegisteredTool, ServerNotifier } from '@modelcontextprotocol/server';

/** What the hooks changed, for every server of the process. */
export class ListChanges {
  dynamicTool = false;
  dynamicPrompt = false;
  /** The 2026-07-28 handler's notifier, set once the handler exists. */
  notifier: ServerNotifier | undefined;
}

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

export function registerListChangeHooks(server: McpServer, lists: ListChanges, era: 'legacy' | 'modern'): void {
  const addTool = () => server.registerTool('test_dynamic_tool', { description: 'Present while test_trigger_tool_change has added it' }, () => text('dynamic'));
  const addPrompt = () =>
    server.registerPrompt('test_dynamic_prompt', { description: 'Present while test_trigger_prompt_change has added it' }, () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'A prompt that comes and goes.' } }],
    }));
  let tool: RegisteredTool | undefined = lists.dynamicTool ? addTool() : undefined;
  let prompt: RegisteredPrompt | undefined = lists.dynamicPrompt ? addPrompt() : undefined;

  server.registerTool('test_trigger_tool_change', { description: 'Adds test_dynamic_tool, or removes it if present' }, () => {
    lists.dynamicTool = !lists.dynamicTool;
    if (era === 'modern') lists.notifier?.toolsChanged();
    else if (tool === undefined) tool = addTool();
    else {
      tool.remove();
      tool = undefined;
    }
    return text(`test_dynamic_tool ${lists.dynamicTool ? 'added' : 'removed'}`);
  });

  server.registerTool('test_trigger_prompt_change', { description: 'Adds test_dynamic_prompt, or removes it if present' }, () => {
    lists.dynamicPrompt = !lists.dynamicPrompt;
    if (era === 'modern') lists.notifier?.promptsChanged();
    else if (prompt === undefined) prompt = addPrompt();
    else {
      prompt.remove();
      prompt = undefined;
    }
    return text(`test_dynamic_prompt ${lists.dynamicPrompt ? 'added' : 'removed'}`);
  });
}
