import type { JsonRpcNotificationMessage, JsonRpcRequestMessage, JsonRpcResponseMessage } from '@meshgate/service-kit';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import { Cancellation } from '../federation/cancel.js';
import type { Params, RequestContext, RequestView } from '../federation/context.js';
import type { MethodTable } from '../federation/methods.js';
import type { Catalog } from '../model/catalog.js';
import type { RequestRecord } from '../observability/record.js';
import type { Downstream } from '../upstream/relay.js';
import { passesLevel } from './log-level.js';
import type { Outbox, Session } from './session.js';

/** What the pipeline knows of a request besides its message. */
export interface RequestMeta {
  identity: GatewayIdentity;
  traceparent: string | undefined;
  /** The pipeline's record of the request, for metrics, traces and the access log. */
  record?: RequestRecord;
  /** A virtual server's view, when the request reached its endpoint; else the federated catalog. */
  view?: RequestView;
}

/**
 * Runs requests through the method table, sessionless or within a session, and takes the
 * client's messages that are not requests (answers to relayed requests, cancellations).
 * Within a session it keeps the bookkeeping a call needs: its abort controller (for
 * `notifications/cancelled` and the session's end) and the requests it relayed to the
 * client (to take back their answers, and to cancel those left unanswered).
 */
export class Dispatcher {
  constructor(
    private readonly methods: MethodTable,
    private readonly catalog: () => Catalog,
    /** Told when a client's roots change, so the services it uses hear of it. */
    private readonly audience?: { rootsChanged(session: Session): void },
    private readonly logger?: Logger,
    /** With several replicas: passes on an answer to a request another replica relayed (SessionRegistry.forwardAnswer). */
    private readonly forwardAnswer?: (session: Session, message: JsonRpcResponseMessage) => Promise<void>,
  ) {}

  /** Answers a request made without a session: nothing can be relayed to its client, and it cannot be cancelled. */
  sessionless(message: JsonRpcRequestMessage, meta: RequestMeta): Promise<JsonRpcResponseMessage | undefined> {
    const ctx: RequestContext = {
      identity: meta.identity,
      requestId: message.id,
      method: message.method,
      catalog: meta.view?.catalog ?? this.catalog(),
      ...(meta.view?.server === undefined ? {} : { server: meta.view.server }),
      signal: undefined,
      downstream: undefined,
      progressToken: undefined,
      traceparent: meta.traceparent,
      session: undefined,
      record: meta.record,
    };
    return this.methods.answer(ctx, message);
  }

  /**
   * Answers a request of `session`. `outbox` is the event stream answering this POST, when
   * the client accepts one: the call's progress, log messages and relayed requests go there.
   * Resolves with undefined when the client cancelled the request (no answer is due then).
   */
  async inSession(
    session: Session,
    message: JsonRpcRequestMessage,
    outbox: Outbox | undefined,
    meta: RequestMeta,
  ): Promise<JsonRpcResponseMessage | undefined> {
    const { id, method, params } = message;
    if (session.calls.has(id)) {
      const error = new GatewayError('invalid_request', `Invalid Request: a request with id ${JSON.stringify(id)} is already in flight in this session`);
      return error.toRpc(id);
    }
    const cancel = new Cancellation();
    session.calls.set(id, cancel);
    const relayed: string[] = [];
    const ctx: RequestContext = {
      identity: session.identity,
      requestId: id,
      method,
      catalog: meta.view?.catalog ?? this.catalog(),
      ...(meta.view?.server === undefined ? {} : { server: meta.view.server }),
      signal: cancel.signal,
      downstream: outbox === undefined ? undefined : this.#downstream(session, outbox, relayed),
      progressToken: progressTokenOf(params),
      traceparent: meta.traceparent,
      session,
      record: meta.record,
    };
    try {
      return await this.methods.answer(ctx, message);
    } finally {
      session.calls.delete(id);
      // The call is over: its requests to the client that are still unanswered are moot.
      for (const relayId of relayed) {
        const pending = session.relays.get(relayId);
        if (pending === undefined) continue;
        session.relays.delete(relayId);
        pending.reject(new Error('the call ended before the client answered'));
        outbox?.notify('notifications/cancelled', { requestId: relayId, reason: 'the call ended' });
      }
    }
  }

  /**
   * A client's message that is not a request: the answer to a request relayed to it, the
   * cancellation of one of its calls, or a notification the gateway only acknowledges
   * (`notifications/initialized`, `notifications/roots/list_changed`). An answer to a request
   * another replica relayed is passed there; rejects with `relay_unreachable` if it cannot be.
   */
  async take(session: Session, message: JsonRpcResponseMessage | JsonRpcNotificationMessage): Promise<void> {
    if (!('method' in message)) {
      if (!this.#answered(session, message)) await this.forwardAnswer?.(session, message);
      return;
    }
    if (message.method === 'notifications/cancelled') {
      const requestId = message.params?.['requestId'];
      if (typeof requestId === 'string' || typeof requestId === 'number') session.calls.get(requestId)?.abort();
    } else if (message.method === 'notifications/roots/list_changed') {
      this.audience?.rootsChanged(session);
    }
  }

  /** Whether the answer was to a request this replica relayed and still waits for. */
  #answered(session: Session, message: JsonRpcResponseMessage): boolean {
    const pending = typeof message.id === 'string' ? session.relays.get(message.id) : undefined;
    if (pending === undefined) return false; // an answer to nothing asked here, or asked and given up on
    session.relays.delete(message.id as string);
    const { result, error } = message;
    if (error !== undefined) pending.reject(new ProtocolError(error.code, error.message, error.data));
    else if (typeof result === 'object' && result !== null && !Array.isArray(result)) pending.resolve(result as Record<string, unknown>);
    else pending.reject(new ProtocolError(ProtocolErrorCode.InvalidParams, 'The client answered without a result object'));
    return true;
  }

  /**
   * The client of one call, as the service sees it: requests the client did not declare it
   * takes are refused here (`roots/list` answers no roots), and log messages below the
   * level it asked for are dropped.
   */
  #downstream(session: Session, outbox: Outbox, relayed: string[]): Downstream {
    return {
      request: (method, params) => session.ask(outbox, method, params, (relayId) => relayed.push(relayId), this.logger),
      notify: async (method, params) => {
        if (method === 'notifications/message' && !passesLevel(params?.['level'], session.logLevel)) return;
        outbox.notify(method, params);
      },
    };
  }
}

function progressTokenOf(params: Params): string | number | undefined {
  const token = (params?.['_meta'] as { progressToken?: unknown } | undefined)?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}
