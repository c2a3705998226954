import type { ServerResponse } from 'node:http';
import type { JsonRpcId } from '@meshgate/service-kit';
import { SERVER_INFO_META_KEY, SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../../auth/tokens.js';
import { gatewayCapabilities, SERVER_INFO } from '../../federation/capabilities.js';
import type { Params } from '../../federation/context.js';
import { resourceFor } from '../../federation/federation.js';
import type { Subscriber, Subscriptions } from '../../federation/subscriptions.js';
import type { VirtualServer } from '../../federation/virtual-servers.js';
import type { Catalog } from '../../model/catalog.js';
import type { ListKind, Registry } from '../../registry/registry.js';
import { MAX_STREAM_BACKLOG_BYTES, sseEvent } from './reply.js';
import { writeJson } from './respond.js';

/** Open `subscriptions/listen` streams the gateway holds at most (the SDK's default): each is a connection and upstream subscriptions. */
export const MAX_LISTEN_STREAMS = 1_024;
/** Resources one listen stream may name (as a session may subscribe to). */
const MAX_RESOURCES_PER_LISTEN = 1_000;
/** A comment on every open stream this often, so that proxies keep idle streams open (the SDK's interval). */
const KEEP_ALIVE_MS = 15_000;

const STREAM_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' } as const;

const LIST_FILTER: Record<ListKind, 'toolsListChanged' | 'promptsListChanged' | 'resourcesListChanged'> = {
  tools: 'toolsListChanged',
  prompts: 'promptsListChanged',
  resources: 'resourcesListChanged',
};

/** What a stream was granted of what it asked for (the acknowledgement says it). */
interface Honored {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

/** One open stream: told of list changes it asked for, and of updates of the resources it named (a Subscriber of Subscriptions). */
class ListenStream implements Subscriber {
  readonly held: { service: string; upstreamUri: string }[] = [];
  #closed = false;

  constructor(
    readonly response: ServerResponse,
    readonly id: JsonRpcId,
    readonly honored: Honored,
    private readonly onOverflow: () => void,
  ) {}

  get closed(): boolean {
    return this.#closed || this.response.destroyed;
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.#frame(sseEvent({ jsonrpc: '2.0', method, params: { ...params, _meta: { [SUBSCRIPTION_ID_META_KEY]: this.id } } }));
  }

  resourceUpdated(uri: string): void {
    this.notify('notifications/resources/updated', { uri });
  }

  keepAlive(): void {
    this.#frame(': keepalive\n\n');
  }

  /** The stream's graceful end: its final result, as the SDK's listen router writes it. */
  finish(): void {
    if (this.closed) return;
    this.#frame(
      sseEvent({
        jsonrpc: '2.0',
        id: this.id,
        result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID_META_KEY]: this.id, [SERVER_INFO_META_KEY]: SERVER_INFO } },
      }),
    );
    this.#closed = true;
    this.response.end();
  }

  #frame(frame: string): void {
    const { response } = this;
    if (this.closed || response.writableEnded) return;
    if (response.writableLength > MAX_STREAM_BACKLOG_BYTES) {
      this.onOverflow();
      response.destroy();
      return;
    }
    response.write(frame);
  }
}

/**
 * `subscriptions/listen` of the 2026-07-28 revision: a long-lived event stream per request
 * that first acknowledges what it was granted of its filter, then delivers the federated
 * catalog's `list_changed` notifications it asked for and `notifications/resources/updated`
 * for the resources it named, each stamped with the subscription's id (the request's id).
 * A named resource must be one the caller may read: others are left out of the grant, as is
 * one whose service refused the subscription. Resource subscriptions are shared upstream
 * with sessions' (Subscriptions) and dropped when the stream closes. Wire shapes follow the
 * SDK's listen router.
 */
export class ListenStreams {
  readonly #open = new Set<ListenStream>();
  readonly #stop: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly subscriptions: Subscriptions,
    private readonly logger: Logger,
    private readonly max = MAX_LISTEN_STREAMS,
  ) {
    this.#stop = registry.onCatalogChange((_catalog, changed) => {
      for (const stream of this.#open) {
        for (const kind of changed) if (stream.honored[LIST_FILTER[kind]] === true) stream.notify(`notifications/${kind}/list_changed`);
      }
    });
  }

  get size(): number {
    return this.#open.size;
  }

  /** Opens a stream for `identity`; on a virtual server's endpoint (`server`), only resources of its view are granted. */
  async open(response: ServerResponse, id: JsonRpcId, params: Params, identity: GatewayIdentity, server?: VirtualServer): Promise<void> {
    if (this.#open.size >= this.max) {
      this.logger.warn({ identity: identity.name }, `subscriptions/listen refused: ${this.max} streams are open, the most the gateway holds`);
      writeJson(response, 200, { jsonrpc: '2.0', id, error: { code: -32603, message: 'Subscription limit reached' } });
      return;
    }
    const filter = filterOf(params);
    if (filter === undefined) {
      writeJson(response, 200, {
        jsonrpc: '2.0',
        id,
        error: { code: -32602, message: "Invalid params: 'notifications' is required and must be a valid SubscriptionFilter" },
      });
      return;
    }
    const capabilities = gatewayCapabilities(this.registry);
    const honored: Honored = {};
    if (filter.toolsListChanged === true && capabilities.tools?.listChanged === true) honored.toolsListChanged = true;
    if (filter.promptsListChanged === true && capabilities.prompts?.listChanged === true) honored.promptsListChanged = true;
    if (filter.resourcesListChanged === true && capabilities.resources?.listChanged === true) honored.resourcesListChanged = true;
    let warned = false;
    const stream = new ListenStream(response, id, honored, () => {
      if (warned) return;
      warned = true;
      this.logger.warn({ identity: identity.name }, 'closing a subscriptions/listen stream whose client does not read it (backlog over the limit)');
    });
    this.#open.add(stream);
    response.once('close', () => this.#release(stream));
    response.writeHead(200, STREAM_HEADERS);
    if (filter.resourceSubscriptions !== undefined && capabilities.resources?.subscribe === true) {
      const catalog = server === undefined ? this.registry.catalog : server.view(this.registry.catalog).catalog;
      const granted = await this.#subscribe(stream, filter.resourceSubscriptions, identity, catalog);
      if (granted.length > 0) honored.resourceSubscriptions = granted;
    }
    if (stream.closed) return;
    stream.notify('notifications/subscriptions/acknowledged', { notifications: honored });
    if (Object.keys(honored).length === 0) {
      stream.finish();
      return;
    }
    this.#timer ??= setInterval(() => {
      for (const open of this.#open) open.keepAlive();
    }, KEEP_ALIVE_MS).unref();
  }

  async #subscribe(stream: ListenStream, uris: string[], identity: GatewayIdentity, catalog: Catalog): Promise<string[]> {
    const granted: string[] = [];
    for (const uri of new Set(uris.slice(0, MAX_RESOURCES_PER_LISTEN))) {
      const target = resourceFor(catalog, identity, uri);
      if (target === undefined) continue;
      try {
        await this.subscriptions.subscribe(target.service, target.upstreamName, stream, uri);
      } catch (error) {
        this.logger.info({ service: target.service, err: error }, `service "${target.service}" refused a subscription to "${uri}" for a listen stream`);
        continue;
      }
      stream.held.push({ service: target.service, upstreamUri: target.upstreamName });
      granted.push(uri);
      // The stream closed while subscribing: #release has run, so what was just taken is given back here.
      if (stream.closed) this.subscriptions.forget(stream, stream.held.splice(0));
    }
    return granted;
  }

  #release(stream: ListenStream): void {
    if (!this.#open.delete(stream)) return;
    this.subscriptions.forget(stream, stream.held.splice(0));
    if (this.#open.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Ends every stream gracefully (the gateway is shutting down) and stops listening to the catalog. */
  closeAll(): void {
    this.#stop();
    for (const stream of [...this.#open]) {
      stream.finish();
      this.#release(stream);
    }
  }
}

interface Filter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

/** The request's `notifications` filter, or undefined when it is not a valid SubscriptionFilter. */
function filterOf(params: Params): Filter | undefined {
  const filter = params?.['notifications'];
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) return undefined;
  const record = filter as Record<string, unknown>;
  for (const key of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
    if (record[key] !== undefined && typeof record[key] !== 'boolean') return undefined;
  }
  const uris = record['resourceSubscriptions'];
  if (uris !== undefined && !(Array.isArray(uris) && uris.every((uri) => typeof uri === 'string'))) return undefined;
  return record as Filter;
}
