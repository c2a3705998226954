import type { JsonRpcId } from '@meshgate/service-kit';
import type { LoggingLevel, ServerCapabilities } from '@modelcontextprotocol/server';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { Catalog } from '../model/catalog.js';
import type { RequestRecord } from '../observability/record.js';
import type { Downstream } from '../upstream/relay.js';
import type { CancelSignal } from './cancel.js';
import type { ServerScope } from './virtual-servers.js';

/** What a method may change of the session it runs in (absent for a sessionless request). */
export interface SessionScope {
  readonly id: string;
  /** The protocol revision negotiated at initialize (a date, `2025-11-25`). */
  readonly protocolVersion: string;
  /** What the gateway offered this session at initialize: methods of capabilities it did not offer are unknown to it. */
  readonly offered: ServerCapabilities;
  logLevel: LoggingLevel | undefined;
  /** Resources the session subscribed to, by the URI it used. */
  readonly subscribed: Map<string, { service: string; upstreamUri: string }>;
  /** Tells the client that a resource it subscribed to changed, under the URI it used. */
  resourceUpdated(uri: string): void;
  /**
   * With several replicas: writes a change of the session's state to the shared store and
   * tells the other replicas (absent with one replica). Called after the change is made here.
   */
  share?(change: SessionChange): Promise<void>;
}

/** A change of a session's state that every replica serving it must know. */
export type SessionChange =
  | { kind: 'logLevel'; level: LoggingLevel }
  | { kind: 'subscribed'; uri: string; service: string; upstreamUri: string }
  | { kind: 'unsubscribed'; uri: string };

/**
 * Everything a method handler knows of the request it serves, passed explicitly: the one
 * place that metrics, tracing, audit and views of the catalog wrap. Nothing is read from
 * ambient state (no AsyncLocalStorage: it cost about 9% per call when measured).
 */
export interface RequestContext {
  readonly identity: GatewayIdentity;
  readonly requestId: JsonRpcId;
  readonly method: string;
  /** The catalog this request sees: the federated one on `/mcp`, a virtual server's view on its endpoint. */
  readonly catalog: Catalog;
  /** The virtual server whose endpoint the request reached (`/servers/{name}/mcp`); absent on `/mcp`. */
  readonly server?: ServerScope;
  /** Aborted when the client cancels the request or goes away. */
  readonly signal: CancelSignal | undefined;
  /** Where a forwarded call's progress, log messages and the service's requests go; absent when nobody can take them. */
  readonly downstream: Downstream | undefined;
  /** The client's progress token for this request, when it asked for progress. */
  readonly progressToken: string | number | undefined;
  /** W3C trace context the client sent (`traceparent` header or `params._meta`), passed on upstream. */
  readonly traceparent: string | undefined;
  readonly session: SessionScope | undefined;
  /** What metrics, traces and the access log know of the request (observability/record.ts); set by the pipeline, or by the method table's observer. */
  record?: RequestRecord;
}

/** What one request sees of the catalog: a virtual server's view and its scope, or (no server) the federated catalog. */
export interface RequestView {
  readonly catalog: Catalog;
  readonly server?: ServerScope;
}

export type Params = Record<string, unknown> | undefined;
export type Result = Record<string, unknown>;
