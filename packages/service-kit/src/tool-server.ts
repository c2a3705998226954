import { type CallToolResult, ProtocolError, ProtocolErrorCode, Server, type Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** What a tool's handler returns: a record, or a failure the model should read. */
export type ToolOutcome<T> = { ok: true; value: T } | { ok: false; message: string };

/** One tool of a native service: schemas in zod, a handler on validated input. */
export interface ToolDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  name: string;
  title?: string;
  description: string;
  input: I;
  output: O;
  handler: (input: z.output<I>) => ToolOutcome<z.input<O>> | Promise<ToolOutcome<z.input<O>>>;
}

/** Keeps the types of a tool definition tied together. */
export function defineTool<I extends z.ZodType, O extends z.ZodType>(tool: ToolDefinition<I, O>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

function toJsonSchema(schema: z.ZodType): Tool['inputSchema'] {
  return z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Tool['inputSchema'];
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}

/**
 * The MCP server of a native service, on the SDK's low-level `Server`. Tool schemas are
 * converted to JSON Schema once; each call validates its arguments with zod and answers:
 * - malformed arguments: JSON-RPC invalid params (-32602) naming the field and the fix;
 * - a domain failure (say, an unknown id): a result with `isError: true` and the message;
 * - success: `structuredContent` plus the same JSON as a text block for older clients.
 */
export class ToolServerFactory {
  readonly #tools: Map<string, ToolDefinition>;
  readonly #listed: Tool[];

  constructor(
    private readonly info: { name: string; version: string; instructions?: string },
    tools: ToolDefinition[],
  ) {
    this.#tools = new Map(tools.map((tool) => [tool.name, tool]));
    this.#listed = tools.map((tool) => ({
      name: tool.name,
      ...(tool.title === undefined ? {} : { title: tool.title }),
      description: tool.description,
      inputSchema: toJsonSchema(tool.input),
      outputSchema: toJsonSchema(tool.output),
      annotations: { readOnlyHint: true, openWorldHint: false },
    }));
  }

  /** The tools as `tools/list` shows them. */
  get tools(): readonly Tool[] {
    return this.#listed;
  }

  /** Calls a tool the way `tools/call` does; throws `ProtocolError` for protocol-level failures. */
  async call(name: string, args: unknown): Promise<CallToolResult> {
    const tool = this.#tools.get(name);
    if (tool === undefined) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool "${name}"; available: ${[...this.#tools.keys()].join(', ')}`);
    }
    const parsed = tool.input.safeParse(args ?? {});
    if (!parsed.success) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid arguments for ${name}: ${describeIssues(parsed.error)}`);
    }
    const outcome = await tool.handler(parsed.data);
    if (!outcome.ok) return { isError: true, content: [{ type: 'text', text: outcome.message }] };
    const structured = outcome.value as Record<string, unknown>;
    return { structuredContent: structured, content: [{ type: 'text', text: JSON.stringify(structured) }] };
  }

  /** Builds one SDK server (one per MCP session); the tool table is shared. */
  create = (): Server => {
    const { instructions, ...serverInfo } = this.info;
    const server = new Server(serverInfo, { capabilities: { tools: { listChanged: false } }, ...(instructions === undefined ? {} : { instructions }) });
    server.setRequestHandler('tools/list', () => ({ tools: this.#listed }));
    server.setRequestHandler('tools/call', (request) => this.call(request.params.name, request.params.arguments));
    return server;
  };
}
