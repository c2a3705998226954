import type { JsonRpcNotificationMessage, JsonRpcRequestMessage, JsonRpcResponseMessage } from '@meshgate/service-kit';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { RequestOptions } from '../upstream/connection.js';
import { type Federation, LIST_METHODS, type ListMethod } from './federation.js';
import { asProtocolError, callDownstream, FORWARDED, type Params, progressTo, type SendNotification, type SendRequest } from './session-calls.js';

type Forward = (typeof FORWARDED)[string];

import { offers, type SessionState } from './session-state.js';

/** What a call served by the MCP lane sends its client before the answer. */
export interface LeanClient {
  notify: SendNotification;
  /** Sends a request under `id`; its answer arrives through `SessionLane.receive`. */
  request(id: string, method: string, params: Params): void;
}

/**
 * The requests of open sessions that the MCP lane (http/mcp-lane.ts) answers without the
 * session's SDK server: the same federation methods, identity and allow-list, with the
 * lane's own bookkeeping of the calls it serves (to cancel them) and of the requests
 * those calls relay to the client (to take back the client's answers). docs/sessions.md
 * says what stays with the SDK server.
 */
export class SessionLane {
  constructor(
    private readonly federation: Federation,
    private readonly logger: Logger,
    /** The state of the open session whose SDK server is `server`. */
    private readonly stateOf: (server: object) => SessionState | undefined,
  ) {}

  /**
   * How to answer `message`, a request of the open session whose SDK server is `server`,
   * without that server: lists, ping and the forwarded requests. Undefined when the SDK
   * server must answer (a method this session was not offered, an id already in flight).
   * The work resolves with the answer, or with undefined when the client cancelled the
   * request (no answer is due then). `client` carries what the call sends its client
   * before the answer: progress, log messages, and requests (sampling, elicitation,
   * roots), whose answers come back through `receive`.
   */
  plan(server: object, message: JsonRpcRequestMessage, client: LeanClient): (() => Promise<JsonRpcResponseMessage | undefined>) | undefined {
    const session = this.stateOf(server);
    if (session === undefined || !offers(session.capabilities, message.method)) return undefined;
    const { method, params, id } = message;
    const { identity } = session;
    if (method === 'ping') return async () => ({ jsonrpc: '2.0', id, result: {} });
    if ((LIST_METHODS as string[]).includes(method)) return () => this.#answer(id, () => this.federation.list(method as ListMethod, identity, params));
    const forward = FORWARDED[method];
    if (forward === undefined || session.leanCalls.has(id)) return undefined;
    return () => this.#call(session, message, forward, client);
  }

  /** Forwards one call for `session`; what the service sends the client meanwhile goes to `client`. */
  async #call(session: SessionState, { id, params }: JsonRpcRequestMessage, forward: Forward, client: LeanClient): Promise<JsonRpcResponseMessage | undefined> {
    const cancel = new AbortController();
    session.leanCalls.set(id, cancel);
    const relayed = new Set<string>();
    const send: SendRequest = (method, relayedParams) =>
      new Promise((resolve, reject) => {
        const relayId = session.nextRelayId();
        session.leanRelays.set(relayId, { resolve, reject });
        relayed.add(relayId);
        client.request(relayId, method, relayedParams);
      });
    const notify: SendNotification = (method, notifyParams) => client.notify(method, notifyParams);
    const progressToken = (params?.['_meta'] as { progressToken?: unknown } | undefined)?.progressToken;
    const options: RequestOptions = { signal: cancel.signal, downstream: callDownstream(session, send, notify), ...progressTo(progressToken, notify) };
    try {
      return await this.#answer(id, () => forward(this.federation, session.identity, params, options));
    } finally {
      session.leanCalls.delete(id);
      // The call is over: its requests to the client that are still unanswered are moot.
      for (const relayId of relayed) {
        const pending = session.leanRelays.get(relayId);
        if (pending === undefined) continue;
        session.leanRelays.delete(relayId);
        pending.reject(new Error('the call ended before the client answered'));
        void notify('notifications/cancelled', { requestId: relayId, reason: 'the call ended' });
      }
    }
  }

  /**
   * Takes a client's message about a call the lane serves: the answer to a request it
   * relayed, or the cancellation of the call. False for any other message, which is the
   * SDK server's. The lane calls it, and so does the MCP endpoint's `sessionMessage` hook
   * for such messages that arrive on the route.
   */
  receive(server: object, message: JsonRpcResponseMessage | JsonRpcNotificationMessage): boolean {
    if (!('method' in message)) return this.#respond(server, message);
    return message.method === 'notifications/cancelled' && this.#cancel(server, message.params?.['requestId']);
  }

  #cancel(server: object, requestId: unknown): boolean {
    const call = typeof requestId === 'string' || typeof requestId === 'number' ? this.stateOf(server)?.leanCalls.get(requestId) : undefined;
    call?.abort();
    return call !== undefined;
  }

  /** The client's answer to a request the lane relayed to it; false if it answers none of those. */
  #respond(server: object, message: JsonRpcResponseMessage): boolean {
    const session = this.stateOf(server);
    const pending = typeof message.id === 'string' ? session?.leanRelays.get(message.id) : undefined;
    if (session === undefined || pending === undefined) return false;
    session.leanRelays.delete(message.id as string);
    const { result, error } = message;
    if (error !== undefined) pending.reject(new ProtocolError(error.code, error.message, error.data));
    else if (typeof result === 'object' && result !== null && !Array.isArray(result)) pending.resolve(result as Record<string, unknown>);
    else pending.reject(new ProtocolError(ProtocolErrorCode.InvalidParams, 'The client answered without a result object'));
    return true;
  }

  async #answer(
    id: JsonRpcRequestMessage['id'],
    work: () => Promise<Record<string, unknown>> | Record<string, unknown>,
  ): Promise<JsonRpcResponseMessage | undefined> {
    try {
      return { jsonrpc: '2.0', id, result: await work() };
    } catch (error) {
      const failure = asProtocolError(error, this.logger);
      if (!(failure instanceof ProtocolError)) return undefined; // cancelled by the client
      return { jsonrpc: '2.0', id, error: { code: failure.code, message: failure.message, ...(failure.data === undefined ? {} : { data: failure.data }) } };
    }
  }
}
