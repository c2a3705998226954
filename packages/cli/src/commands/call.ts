import type { CallToolResult } from '@modelcontextprotocol/client';
import { type InputSchema, parseToolArguments } from '../args.js';
import { type Context, print } from '../context.js';
import { failed, usageError } from '../errors.js';
import { mcpError } from '../mcp.js';
import { startProgress } from '../progress.js';
import { USAGE } from './specs.js';
import { findTool, inSession, listTools } from './tools.js';

/** The text a person reads from a tool result: structuredContent as JSON when there is some, else the text content. */
export function renderResult(result: CallToolResult): string {
  if (result.structuredContent !== undefined) return `${JSON.stringify(result.structuredContent, null, 2)}\n`;
  return result.content
    .map((block) => {
      if (block.type === 'text') return block.text;
      if (block.type === 'resource_link') return `[resource ${block.uri}]`;
      if (block.type === 'resource') return `[resource ${block.resource.uri}]`;
      return `[${block.type} content, ${'mimeType' in block ? block.mimeType : 'binary'}]`;
    })
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * `meshgate call <tool> …`: types the arguments from the tool's input schema, calls it
 * with a progress token (progress shown on a terminal), prints the result. A result with
 * `isError` is exit code 1.
 */
export async function call(context: Context, positionals: string[], values: Record<string, unknown>): Promise<void> {
  const [name, ...inputs] = positionals;
  if (name === undefined) throw usageError(`missing <tool>\n\n${USAGE.call}`);
  const timeout = values['timeout'] === undefined ? undefined : Number(values['timeout']);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) throw usageError('--timeout must be a number of milliseconds');
  const result = await inSession(context, async (session) => {
    const progress = startProgress(context.io.stderr, `calling ${name}`);
    try {
      const tool = findTool(await listTools(context, session), name);
      const args = parseToolArguments(inputs, tool.inputSchema as InputSchema);
      return (await session.client.callTool(
        { name, arguments: args },
        {
          onprogress: ({ progress: done, total, message }) => {
            progress.update(`${name}: ${message ?? `${done}${total === undefined ? '' : ` of ${total}`}`}`);
          },
          ...(timeout === undefined ? {} : { timeout, resetTimeoutOnProgress: true }),
        },
      )) as CallToolResult;
    } catch (error) {
      throw mcpError(context, error, `calling ${name}`);
    } finally {
      progress.stop();
    }
  });
  if (result.isError === true) {
    if (context.json) print(context, result, () => '');
    throw failed(`${name} answered with an error: ${renderResult(result).trim()}`);
  }
  print(context, result, () => renderResult(result));
}
