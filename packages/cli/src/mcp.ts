/**
 * An MCP session with the gateway through the SDK v2 client, for `tools` and `call`:
 * connect with the token, page through `tools/list`, call a tool with progress, and end
 * the session (DELETE) so the gateway does not keep it until it idles out.
 */
import { Client, type Tool as SdkTool, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Context } from './context.js';
import { CliError, describeNetworkError, EXIT, redact, unreachable } from './errors.js';

export type Tool = SdkTool;

export interface McpSession {
  readonly client: Client;
  listTools(): Promise<Tool[]>;
  close(): Promise<void>;
}

const CLIENT_INFO = { name: 'meshgate-cli', version: '0.1.0' };

/** Opens a session; a refused token or an unreachable gateway is exit code 3. */
export async function openSession(context: Context): Promise<McpSession> {
  const { target } = context;
  const transport = new StreamableHTTPClientTransport(new URL(target.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${target.token}` } } });
  const client = new Client(CLIENT_INFO);
  try {
    await client.connect(transport);
  } catch (error) {
    throw mcpError(context, error, 'connecting');
  }
  return {
    client,
    listTools: async () => {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      try {
        do {
          const page = await client.listTools(cursor === undefined ? {} : { cursor });
          tools.push(...page.tools);
          cursor = page.nextCursor;
        } while (cursor !== undefined);
      } catch (error) {
        throw mcpError(context, error, 'listing tools');
      }
      return tools;
    },
    close: async () => {
      try {
        await transport.terminateSession();
      } catch {
        // The session ends by idle expiry anyway.
      } finally {
        await client.close();
      }
    },
  };
}

/** An error from the SDK client as a CliError: HTTP status 401/403 and network failures are 3, the rest 1. */
export function mcpError(context: Context, error: unknown, doing: string): CliError {
  if (error instanceof CliError) return error;
  const { target } = context;
  const network = describeNetworkError(error, target.url) ?? describeNetworkError((error as { cause?: unknown }).cause, target.url);
  if (network !== undefined) return unreachable(network);
  // The HTTP status of a refused request (SdkHttpError's data); a JSON-RPC error of a service that says "Unauthorized" is not one.
  const status = (error as { data?: { status?: unknown } }).data?.status;
  const message = redact(error instanceof Error ? error.message : String(error), target.token);
  if (status === 401) {
    return unreachable(`The gateway refused the token (401) from ${target.tokenSource}. Pass the right one with --token or MESHGATE_TOKEN`);
  }
  if (status === 403) return unreachable(`The gateway refused the token's role (403) while ${doing}: ${message}`);
  return new CliError(EXIT.failed, `Failed while ${doing}: ${message}`);
}
