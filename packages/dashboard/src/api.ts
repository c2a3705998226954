/**
 * The dashboard's only way out: the gateway's admin API and `/mcp`, same origin, with the
 * token from sessionStorage as a Bearer. Errors carry the gateway's own message.
 */

const TOKEN_KEY = 'meshgate.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** A refusal or failure of the gateway, with its HTTP status and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(json: boolean): Record<string, string> {
  const token = storedToken();
  return {
    accept: 'application/json',
    ...(json ? { 'content-type': 'application/json' } : {}),
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
  };
}

/** One admin API call; the parsed JSON body, or an ApiError with the gateway's message. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const message = (parsed as { message?: unknown } | undefined)?.message;
    throw new ApiError(response.status, typeof message === 'string' ? message : `HTTP ${response.status}`);
  }
  return parsed as T;
}

/** A JSON-RPC error as `/mcp` answers it. */
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

let nextId = 1;

/** One sessionless JSON-RPC request to `/mcp` (plain POST, JSON answer). */
export async function rpc<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch('/mcp', {
    method: 'POST',
    headers: { ...headers(true), accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await response.text();
  const message = parseRpcAnswer(text);
  if (message === undefined) throw new ApiError(response.status, `HTTP ${response.status} from /mcp`);
  if (message.error !== undefined) throw new ApiError(response.status, `${message.error.code}: ${message.error.message}`);
  return message.result as T;
}

/** The answer of a JSON body, or of the last `data:` line of an SSE one. */
function parseRpcAnswer(text: string): { result?: unknown; error?: RpcError } | undefined {
  const candidates = text.trimStart().startsWith('{')
    ? [text]
    : text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5));
  for (const candidate of candidates.reverse()) {
    try {
      const parsed = JSON.parse(candidate) as { result?: unknown; error?: RpcError };
      if (parsed.result !== undefined || parsed.error !== undefined) return parsed;
    } catch {
      // not JSON: try the next line
    }
  }
  return undefined;
}

/** Who the token is (`GET /whoami`): its identity name and roles. A 401 is an ApiError. */
export async function whoami(): Promise<{ identity: string; roles: string[] }> {
  return api('GET', '/whoami');
}
