import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonRpcMessage, JsonRpcRequestMessage, Lane } from '@meshgate/service-kit';
import type { Logger } from 'pino';
import type { GatewayAuth } from '../../auth/authenticator.js';
import type { GatewayIdentity } from '../../auth/tokens.js';
import { GatewayError } from '../../errors.js';
import { gatewayCapabilities, gatewayInstructions, SERVER_INFO } from '../../federation/capabilities.js';
import type { Observer } from '../../observability/observer.js';
import type { RequestRecord } from '../../observability/record.js';
import type { Registry } from '../../registry/registry.js';
import type { Perimeter } from '../../security/index.js';
import type { Dispatcher } from '../../session/dispatch.js';
import { initializeResult, negotiate } from '../../session/initialize.js';
import type { SessionRegistry } from '../../session/registry.js';
import type { Session } from '../../session/session.js';
import { readBody } from '../mcp/body.js';
import { accept, admit, admitted, traceparentOf, withinLimit } from '../mcp/pipeline.js';
import { answerFailure } from '../mcp/respond.js';
import { framingStage, methodStage } from '../mcp/stages.js';
import { LegacyStream } from './stream.js';

export const SSE_PATH = '/sse';
export const MESSAGES_PATH = '/messages';

export interface LegacySseDeps {
  auth: GatewayAuth;
  perimeter: Perimeter;
  registry: Registry;
  sessions: SessionRegistry;
  dispatcher: Dispatcher;
  logger: Logger;
  maxBodyBytes: number;
  /** Access-log lines, request ids and refusal counts, as for `/mcp`. */
  observer?: Observer | undefined;
}

/**
 * Streams opened but not initialized yet: they hold a socket and no session (so the
 * session caps do not count them), hence their own small caps and a deadline.
 */
const MAX_UNINITIALIZED_PER_IDENTITY = 16;
const MAX_UNINITIALIZED = 1_000;
const INITIALIZE_WITHIN_MS = 30_000;

/** One client's stream and, once it sent `initialize`, its session. */
interface Channel {
  readonly id: string;
  readonly identity: GatewayIdentity;
  readonly stream: LegacyStream;
  session: Session | undefined;
  timer: NodeJS.Timeout | undefined;
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  return url.startsWith('/') ? url.split('?', 1)[0] : undefined;
}

/**
 * The 2024-11-05 HTTP+SSE transport for clients that speak nothing newer. `GET /sse`
 * opens a stream whose first event names `/messages?sessionId=…`; each POST there carries
 * one JSON-RPC message, is answered 202, and whatever answers it goes on the stream.
 *
 * It is a second door to the same house: every request passes the `/mcp` stages
 * (perimeter, Bearer token, client role, framing and body limit, rate limit), and the
 * session is a `SessionRegistry` session run by the same `Dispatcher`, whose outbox is
 * the stream; so caps, idle expiry, relays, cancellation and broadcasts are those of `/mcp`.
 * A stream is bound to the identity that opened it: a POST by another identity is told
 * the session does not exist (404), as on `/mcp`.
 */
export class LegacySseEndpoint {
  readonly #channels = new Map<string, Channel>();
  readonly #uninitialized = new Map<string, number>();
  #closed = false;

  constructor(private readonly deps: LegacySseDeps) {}

  /** A lane in front of the Hono app: `/sse` and `/messages`, everything else passed on. */
  readonly lane: Lane = (request, response, next) => {
    const path = pathOf(request.url);
    if (path !== SSE_PATH && path !== MESSAGES_PATH) {
      next();
      return;
    }
    const record = this.deps.observer?.begin(request, response);
    this.#serve(path, request, response, record).catch((error: unknown) => {
      if (record !== undefined) this.deps.observer?.refused(record, error);
      answerFailure(response, error, this.deps.logger, 'HTTP+SSE');
    });
  };

  /** Further requests get 503; streams still open end with their sessions. */
  close(): void {
    this.#closed = true;
    for (const channel of [...this.#channels.values()]) channel.stream.close();
  }

  async #serve(path: string, request: IncomingMessage, response: ServerResponse, record: RequestRecord | undefined): Promise<void> {
    const { auth, perimeter } = this.deps;
    const { headers } = request;
    if (this.#closed) throw new GatewayError('shutting_down', 'Server is shutting down');
    if (admitted(perimeter, request, response)) return;
    const identity = await admit(auth, perimeter, request);
    if (record !== undefined) record.identity = identity.name;
    const method = accept(methodStage(request.method, headers));
    if (path === SSE_PATH) {
      if (method !== 'GET') throw new GatewayError('method_not_allowed', `Method ${method} is not allowed on ${SSE_PATH}`, undefined, { allow: 'GET' });
      const limited = withinLimit(perimeter, identity);
      if (limited !== undefined) await limited;
      return this.#open(identity, response);
    }
    if (method !== 'POST') throw new GatewayError('method_not_allowed', `Method ${method} is not allowed on ${MESSAGES_PATH}`, undefined, { allow: 'POST' });
    const channel = this.#channel(request.url ?? '', identity);
    const body = await readBody(request, this.deps.maxBodyBytes);
    const message = accept(framingStage(body));
    const limited = withinLimit(perimeter, identity);
    if (limited !== undefined) await limited;
    this.#take(channel, message, identity, traceparentOf(headers['traceparent'], message));
    response.writeHead(202).end();
  }

  /** `GET /sse`: a new stream, its endpoint event, and a deadline for `initialize`. */
  #open(identity: GatewayIdentity, response: ServerResponse): void {
    const waiting = this.#uninitialized.get(identity.name) ?? 0;
    const total = [...this.#uninitialized.values()].reduce((sum, count) => sum + count, 0);
    if (waiting >= MAX_UNINITIALIZED_PER_IDENTITY || total >= MAX_UNINITIALIZED) {
      throw new GatewayError('too_many_sessions', 'Too many HTTP+SSE streams wait for initialize; send initialize on the ones open', undefined, {
        'retry-after': '5',
      });
    }
    const id = randomUUID();
    const stream = new LegacyStream(response, id, () => {
      this.deps.logger.warn({ session: id }, 'closing an HTTP+SSE stream whose client does not read it (backlog over the limit)');
    });
    const channel: Channel = { id, identity, stream, session: undefined, timer: undefined };
    this.#channels.set(id, channel);
    this.#uninitialized.set(identity.name, waiting + 1);
    channel.timer = setTimeout(() => stream.close(), INITIALIZE_WITHIN_MS).unref();
    response.once('close', () => this.#release(channel));
    stream.endpoint(`${MESSAGES_PATH}?sessionId=${id}`);
  }

  /** The channel a POST names, if the identity that opened it sends it. */
  #channel(url: string, identity: GatewayIdentity): Channel {
    const id = new URLSearchParams(url.split('?', 2)[1] ?? '').get('sessionId');
    const channel = id === null ? undefined : this.#channels.get(id);
    // An unknown id and another identity's id look the same: neither reveals the other.
    if (channel === undefined || channel.identity.name !== identity.name) {
      throw new GatewayError('unknown_session', 'Session not found: it expired or was closed; open a new stream with GET /sse');
    }
    if (channel.session !== undefined && this.deps.sessions.find(channel.session.id, identity) === undefined) {
      throw new GatewayError('unknown_session', 'Session not found: it expired or was closed; open a new stream with GET /sse');
    }
    return channel;
  }

  /** One message of the client; whatever answers it goes on its stream. */
  #take(channel: Channel, message: JsonRpcMessage, identity: GatewayIdentity, traceparent: string | undefined): void {
    const { session, stream } = channel;
    const isRequest = 'method' in message && 'id' in message;
    if (isRequest && message.method === 'initialize') {
      if (session !== undefined) {
        throw new GatewayError(
          'invalid_request',
          'Invalid Request: this session is already initialized; open another stream with GET /sse',
          undefined,
          undefined,
          message.id,
        );
      }
      this.#initialize(channel, message);
      return;
    }
    if (session === undefined) {
      throw new GatewayError('session_required', 'Bad Request: send initialize first', undefined, undefined, isRequest ? message.id : undefined);
    }
    if (!isRequest) {
      // A legacy session's relays are all on this replica's SSE channel: nothing to pass on.
      void this.deps.dispatcher.take(session, message);
      return;
    }
    this.deps.dispatcher.inSession(session, message, stream, { identity, traceparent }).then(
      (answer) => {
        if (answer !== undefined) stream.answer(answer);
      },
      (error: unknown) => {
        this.deps.logger.error({ err: error, session: session.id }, 'HTTP+SSE request failed unexpectedly');
        stream.answer(new GatewayError('internal', 'Internal error').toRpc(message.id));
      },
    );
  }

  #initialize(channel: Channel, message: JsonRpcRequestMessage): void {
    let handshake: ReturnType<typeof negotiate>;
    try {
      handshake = negotiate(message.params, gatewayCapabilities(this.deps.registry));
    } catch (error) {
      channel.stream.answer((error as GatewayError).toRpc(message.id));
      return;
    }
    const session = this.deps.sessions.open(channel.identity, handshake); // throws too_many_sessions when full
    channel.session = session;
    session.stream = channel.stream;
    this.#initialized(channel);
    const { registry } = this.deps;
    // The same answer as /mcp's initialize: each service's instructions, and this gateway's instance (loop detection).
    const result = initializeResult(handshake, SERVER_INFO, gatewayInstructions(registry, channel.identity), registry.federationMeta());
    channel.stream.answer({ jsonrpc: '2.0', id: message.id, result });
  }

  /** The channel no longer waits for initialize: it counts as a session now (or is gone). */
  #initialized(channel: Channel): void {
    if (channel.timer === undefined) return;
    clearTimeout(channel.timer);
    channel.timer = undefined;
    const left = (this.#uninitialized.get(channel.identity.name) ?? 1) - 1;
    if (left > 0) this.#uninitialized.set(channel.identity.name, left);
    else this.#uninitialized.delete(channel.identity.name);
  }

  /** The client's stream closed (or was closed): the session ends with it, as the transport says. */
  #release(channel: Channel): void {
    this.#channels.delete(channel.id);
    this.#initialized(channel);
    if (channel.session !== undefined) this.deps.sessions.delete(channel.session);
  }
}
