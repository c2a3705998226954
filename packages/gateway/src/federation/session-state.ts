import type { LoggingLevel, Server, ServerCapabilities } from '@modelcontextprotocol/server';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { ListKind } from '../registry/registry.js';
import type { Subscriber } from './subscriptions.js';

const LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** True when a message of `level` should reach a client that asked for `threshold` and above. */
export function passesLevel(level: unknown, threshold: LoggingLevel | undefined): boolean {
  if (threshold === undefined) return true; // the client never asked: the service's own choice stands
  const at = LEVELS.indexOf(level as LoggingLevel);
  return at === -1 || at >= LEVELS.indexOf(threshold);
}

/** Whether a gateway with `capabilities` serves `method` (tools, ping and logging always). */
export function offers(capabilities: ServerCapabilities, method: string): boolean {
  if (method.startsWith('prompts/')) return capabilities.prompts !== undefined;
  if (method.startsWith('resources/')) return capabilities.resources !== undefined;
  if (method.startsWith('completion/')) return capabilities.completions !== undefined;
  return true;
}

/** One client session of the gateway: its server, who it is, and what it asked for. */
export class SessionState {
  /** Set by `logging/setLevel`; until then the session gets no log messages from outside its calls. */
  logLevel: LoggingLevel | undefined;
  /** Resources this session subscribed to, by the URI it used. */
  readonly subscribed = new Map<string, { service: string; upstreamUri: string }>();
  readonly subscriber: Subscriber;
  /** Calls the MCP lane serves for this session, by request id, to cancel them. */
  readonly leanCalls = new Map<string | number, AbortController>();
  /** Requests the lane relayed to this session's client (sampling, elicitation, roots...), by the id it gave them. */
  readonly leanRelays = new Map<string, { resolve(result: Record<string, unknown>): void; reject(error: Error): void }>();
  #relays = 0;

  /** An id for a request relayed to this client, unique in the session. */
  nextRelayId(): string {
    this.#relays += 1;
    return `meshgate-relay-${this.#relays}`;
  }

  constructor(
    readonly server: Server,
    readonly identity: GatewayIdentity,
    /** What the gateway offered this session when it opened. */
    readonly capabilities: ServerCapabilities,
  ) {
    this.subscriber = { notify: (uri) => void this.server.sendResourceUpdated({ uri }).catch(() => undefined) };
  }

  /** Tells the client which of its lists changed. */
  listsChanged(changed: ReadonlySet<ListKind>): void {
    const send = (notify: () => Promise<void>) => void notify().catch(() => undefined);
    if (changed.has('tools')) send(() => this.server.sendToolListChanged());
    if (changed.has('prompts')) send(() => this.server.sendPromptListChanged());
    if (changed.has('resources')) send(() => this.server.sendResourceListChanged());
  }

  /** A service's log message from outside any call: only for sessions that asked and may see that service. */
  log(service: string, params: Record<string, unknown>): void {
    if (this.logLevel === undefined || !passesLevel(params['level'], this.logLevel)) return;
    if (this.identity.allowList?.allows({ service, upstreamName: '*', exposedName: `${service}__*` }) === false) return;
    void this.server.sendLoggingMessage(params as never).catch(() => undefined);
  }
}
