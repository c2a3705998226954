/**
 * `meshgate connect`: a stdio MCP server for clients that only launch stdio servers,
 * relaying every JSON-RPC message, unchanged, to the gateway's `/mcp` with the token and
 * every message from the gateway back: responses, notifications (progress, logs, list
 * changes) and the gateway's own requests (sampling, elicitation, roots) alike. It speaks
 * no protocol of its own: the SDK's StdioServerTransport on one side and its
 * StreamableHTTPClientTransport (session id, GET stream, protocol version header) on the
 * other. Nothing but protocol goes to stdout; diagnostics go to stderr.
 */
import { isInitializeRequest, isJSONRPCRequest, type JSONRPCMessage, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { Context } from './context.js';
import { describeNetworkError, redact } from './errors.js';

/** The JSON-RPC error a stdio client gets when a request could not be delivered to the gateway. */
export const BRIDGE_ERROR = -32603;

export interface Bridge {
  /** Resolves when either side closes (the client closed stdin, or the bridge was closed). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * What to answer a request the HTTP side could not deliver: the gateway's own JSON-RPC
 * error when its refusal carried one (401, 404 for an expired session, …), else an
 * internal error saying what to fix.
 */
export function undeliveredAnswer(id: string | number, error: unknown, context: Context): JSONRPCMessage {
  const text = (error as { data?: { text?: unknown } }).data?.text;
  const status = (error as { data?: { status?: unknown } }).data?.status;
  if (typeof text === 'string') {
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; data?: unknown } };
      if (typeof body.error?.code === 'number' && typeof body.error.message === 'string') {
        const hint =
          status === 401 ? ` (meshgate connect sent the token from ${context.target.tokenSource}; set MESHGATE_TOKEN in this server's environment)` : '';
        return {
          jsonrpc: '2.0',
          id,
          error: {
            code: body.error.code,
            message: `${redact(body.error.message, context.target.token)}${hint}`,
            ...(body.error.data === undefined ? {} : { data: body.error.data }),
          },
        };
      }
    } catch {
      // Not JSON-RPC: described below.
    }
  }
  const network = describeNetworkError(error, context.target.url);
  const unauthorized = status === 401;
  const message =
    network ??
    (unauthorized
      ? `Meshgate refused the token (401) from ${context.target.tokenSource}: set MESHGATE_TOKEN in this server's environment`
      : `meshgate connect could not deliver the request to ${context.target.mcpUrl}: ${redact(error instanceof Error ? error.message : String(error), context.target.token)}`);
  return { jsonrpc: '2.0', id, error: { code: BRIDGE_ERROR, message } };
}

/** Starts relaying between `stdio` (default: this process's stdin/stdout) and the gateway. */
export async function startBridge(context: Context, stdio = new StdioServerTransport()): Promise<Bridge> {
  const http = new StreamableHTTPClientTransport(new URL(context.target.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${context.target.token}` } },
  });
  const log = (text: string) => context.io.stderr.write(`meshgate connect: ${redact(text, context.target.token)}\n`);
  const initializing = new Set<string | number>();
  let closing = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const close = async () => {
    if (closing) return closed;
    closing = true;
    try {
      // End the gateway's session rather than leave it to idle out.
      await http.terminateSession().catch(() => {});
    } finally {
      try {
        await http.close();
        await stdio.close();
      } finally {
        resolveClosed();
      }
    }
    return closed;
  };

  // Messages to the client, in the order they came. The SDK's client handles a notification
  // a microtask later but a response at once, so a progress notification read in the same
  // chunk as the response after it is dropped: a turn of the event loop after each
  // notification lets the client read them apart.
  let outbound = Promise.resolve();
  const toClient = (message: JSONRPCMessage) => {
    outbound = outbound
      .then(async () => {
        await stdio.send(message);
        if (!('id' in message)) await new Promise((turn) => setImmediate(turn));
      })
      .catch((error: unknown) => {
        log(`cannot write to stdout: ${String(error)}`);
      });
  };

  stdio.onmessage = (message) => {
    const request = isJSONRPCRequest(message);
    if (request && isInitializeRequest(message)) initializing.add(message.id);
    http.send(message).catch((error: unknown) => {
      if (closing) return;
      log(error instanceof Error ? error.message : String(error));
      // A request the gateway never got would leave the client waiting for ever.
      if (request) toClient(undeliveredAnswer(message.id, error, context));
    });
  };
  http.onmessage = (message) => {
    // The client's version header follows the answer to its initialize, as the SDK client sets it.
    if ('id' in message && message.id !== undefined && initializing.delete(message.id) && 'result' in message) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') http.setProtocolVersion(version);
    }
    toClient(message);
  };
  // Send failures are logged (and answered) above; this is the GET stream and reconnects.
  http.onerror = (error) => {
    if (!closing) log(`gateway stream: ${error.message}`);
  };
  stdio.onerror = (error) => log(`stdin: ${error.message}`);
  stdio.onclose = () => {
    void close();
  };

  await http.start();
  await stdio.start();
  return { closed, close };
}
