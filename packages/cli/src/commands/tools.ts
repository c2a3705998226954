import type { InputSchema } from '../args.js';
import { type Context, print } from '../context.js';
import { failed, usageError } from '../errors.js';
import { api } from '../http.js';
import { type McpSession, openSession, type Tool } from '../mcp.js';
import { withProgress } from '../progress.js';
import { cell, renderFields, renderTable } from '../table.js';
import type { ServiceView } from './services.js';
import { USAGE } from './specs.js';

export interface ListedTool extends Tool {
  /** The service that serves it, from /services (null if the listing does not say). */
  service: string | null;
}

/** The tools this token may call (tools/list in `session`), each with the service that owns it (from /services). */
export async function listTools(context: Context, session: McpSession): Promise<ListedTool[]> {
  const [tools, services] = await Promise.all([session.listTools(), api(context, 'GET', '/services')]);
  const owner = new Map<string, string>();
  for (const service of (services.body as { services: ServiceView[] }).services) {
    for (const tool of service.tools ?? []) owner.set(tool.name, service.name);
  }
  return tools.map((tool) => ({ ...tool, service: owner.get(tool.name) ?? null }));
}

/** Runs `work` in a session that is ended however it finishes. */
export async function inSession<T>(context: Context, work: (session: McpSession) => Promise<T>): Promise<T> {
  const session = await openSession(context);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** `listTools` in a session of its own, with a progress line. */
const fetchTools = (context: Context) => withProgress(context.io.stderr, 'listing tools', () => inSession(context, (session) => listTools(context, session)));

/** The tool named `name`, or a failure that lists near names. */
export function findTool(tools: readonly ListedTool[], name: string): ListedTool {
  const tool = tools.find((candidate) => candidate.name === name);
  if (tool !== undefined) return tool;
  const lower = name.toLowerCase();
  const near = tools.filter(
    (candidate) => candidate.name.toLowerCase().includes(lower) || lower.includes(candidate.name.toLowerCase().split('__').pop() ?? ''),
  );
  const hint = near.length > 0 ? `; did you mean ${near.map((t) => t.name).join(', ')}?` : '; meshgate tools list shows the tools this token may call';
  throw failed(`No tool named ${JSON.stringify(name)}${hint}`);
}

/** The input schema's parameters as rows: name, type, required, description. */
export function parameterRows(schema: InputSchema | undefined): Array<{ name: string; type: string; required: boolean; description: string | undefined }> {
  return Object.entries(schema?.properties ?? {}).map(([name, property]) => ({
    name,
    type: Array.isArray(property.type) ? property.type.join('|') : (property.type ?? (property.anyOf || property.oneOf ? 'union' : 'any')),
    required: schema?.required?.includes(name) ?? false,
    description: property.description,
  }));
}

/** `meshgate tools list|show`. */
export async function tools(context: Context, positionals: string[]): Promise<void> {
  const [action = 'list', name] = positionals;
  if (action === 'list') {
    const listed = await fetchTools(context);
    print(context, listed, () =>
      renderTable(
        listed,
        [
          { header: 'TOOL', value: (t) => t.name },
          { header: 'SERVICE', value: (t) => t.service },
          { header: 'DESCRIPTION', value: (t) => t.title ?? t.description, max: 80 },
        ],
        '(no tools)',
      ),
    );
    return;
  }
  if (action === 'show') {
    if (name === undefined) throw usageError(`missing <tool>\n\n${USAGE.tools}`);
    const tool = findTool(await fetchTools(context), name);
    const schema = tool.inputSchema as InputSchema;
    print(context, tool, () => {
      const fields = renderFields([
        ['Tool', tool.name],
        ['Service', tool.service],
        ['Title', tool.title],
        ['Annotations', tool.annotations],
        ['Output schema', tool.outputSchema === undefined ? 'none' : 'yes (structuredContent)'],
      ]);
      const description = `\n${cell(tool.description ?? '')}\n\n`;
      const parameters = renderTable(
        parameterRows(schema),
        [
          { header: 'PARAMETER', value: (p) => p.name },
          { header: 'TYPE', value: (p) => p.type },
          { header: 'REQUIRED', value: (p) => (p.required ? 'yes' : 'no') },
          { header: 'DESCRIPTION', value: (p) => p.description, max: 80 },
        ],
        '(no parameters)',
      );
      const example = parameterRows(schema)
        .filter((p) => p.required)
        .map((p) => `${p.name}=…`)
        .join(' ');
      return `${fields}${description}${parameters}\nmeshgate call ${tool.name}${example === '' ? '' : ` ${example}`}\n`;
    });
    return;
  }
  throw usageError(`unknown tools command ${JSON.stringify(action)}\n\n${USAGE.tools}`);
}
