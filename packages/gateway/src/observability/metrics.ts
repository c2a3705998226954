import { Counter, collectDefaultMetrics, Gauge, Registry as PromRegistry } from 'prom-client';
import type { CircuitView } from '../upstream/breaker.js';
import type { UpstreamStatus } from '../upstream/connection.js';
import { HotCounter, HotHistogram } from './hot-metrics.js';

/** What the metrics read when scraped, rather than being told on every change. */
export interface MetricsSources {
  sessions(): number;
  services(): readonly {
    name: string;
    status: UpstreamStatus;
    circuit: CircuitView;
    reconnects: number;
    /** Tools whose changed definition is held back by pinning, and tools with flagged text (model/tool-surface.ts). */
    held?: number;
    flagged?: number;
  }[];
  catalog(): { tools: number; prompts: number; resources: number; resourceTemplates: number };
}

/** How a request ended, as a label. */
export type Outcome = 'ok' | 'tool_error' | 'error' | 'cancelled';

const STATUSES: readonly UpstreamStatus[] = ['connecting', 'up', 'degraded', 'down'];
const CIRCUITS: readonly CircuitView[] = ['closed', 'open', 'half-open'];
/** From 0.5 ms: the gateway's own share of a call is well under a millisecond. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The gateway's Prometheus metrics (prom-client, in a registry of their own). Every label
 * value is bounded: methods are the method table's, tools and services come from the
 * catalog, outcomes and refusal reasons from fixed lists. What a call updates is kept as
 * plain numbers (hot-metrics.ts: one map lookup per metric) and read at scrape time.
 */
export class GatewayMetrics {
  readonly registry = new PromRegistry();
  readonly #requests: HotCounter;
  readonly #duration: HotHistogram;
  readonly #upstream: HotHistogram;
  readonly #refusals: HotCounter;
  /** Requests begun and ended, by method: the in-flight gauge is their difference, read at scrape time. */
  readonly #begun = new Map<string, { begun: number; ended: number }>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const { registry } = this;
    this.#requests = new HotCounter(
      'meshgate_requests_total',
      'MCP requests answered, by method, tool (as the catalog names it), service and outcome',
      registry,
    );
    this.#duration = new HotHistogram(
      'meshgate_request_duration_seconds',
      'Whole MCP requests, from arrival to answer, by method and service',
      registry,
      BUCKETS,
    );
    this.#upstream = new HotHistogram(
      'meshgate_upstream_duration_seconds',
      "The upstream part of forwarded requests (the service's answer time as the gateway sees it), by method and service",
      registry,
      BUCKETS,
    );
    this.#refusals = new HotCounter(
      'meshgate_refusals_total',
      "Requests refused before any method ran, by the error catalogue's code (unauthorized, forbidden, rate_limited, ...): every refusal on /mcp, auth and rate limits on the admin API",
      registry,
    );
    const begun = this.#begun;
    new Gauge({
      name: 'meshgate_requests_in_flight',
      help: 'MCP requests being answered now',
      labelNames: ['method'],
      registers,
      collect() {
        for (const [method, counts] of begun) this.set({ method }, counts.begun - counts.ended);
      },
    });
    new Gauge({
      name: 'meshgate_sessions_open',
      help: 'Client sessions open',
      registers,
      collect() {
        this.set(sources.sessions());
      },
    });
    new Gauge({
      name: 'meshgate_service_status',
      help: 'Status of each federated service: 1 for its current status, 0 for the others',
      labelNames: ['service', 'status'],
      registers,
      collect() {
        this.reset();
        for (const service of sources.services()) for (const status of STATUSES) this.set({ service: service.name, status }, service.status === status ? 1 : 0);
      },
    });
    new Gauge({
      name: 'meshgate_service_circuit',
      help: 'Circuit breaker of each federated service: 1 for its current state, 0 for the others',
      labelNames: ['service', 'state'],
      registers,
      collect() {
        this.reset();
        for (const service of sources.services()) for (const state of CIRCUITS) this.set({ service: service.name, state }, service.circuit === state ? 1 : 0);
      },
    });
    new Counter({
      name: 'meshgate_upstream_reconnects_total',
      help: 'Sessions opened again with a service after the first (reconnects); restarts from 0 when the service is re-registered',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const service of sources.services()) this.inc({ service: service.name }, service.reconnects);
      },
    });
    new Gauge({
      name: 'meshgate_tool_surface_findings',
      help: 'Tools of each service with a changed definition held back until approved (kind held), or with text that reads like instructions to the model (kind flagged)',
      labelNames: ['service', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const service of sources.services()) {
          this.set({ service: service.name, kind: 'held' }, service.held ?? 0);
          this.set({ service: service.name, kind: 'flagged' }, service.flagged ?? 0);
        }
      },
    });
    new Gauge({
      name: 'meshgate_catalog_items',
      help: 'Items in the federated catalog, by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, size] of Object.entries(sources.catalog())) this.set({ kind }, size);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** One request begins. */
  started(method: string): void {
    let counts = this.#begun.get(method);
    if (counts === undefined) {
      counts = { begun: 0, ended: 0 };
      this.#begun.set(method, counts);
    }
    counts.begun += 1;
  }

  /** One request ended after `seconds`. */
  ended(method: string, tool: string, service: string, outcome: Outcome, seconds: number): void {
    const counts = this.#begun.get(method);
    if (counts !== undefined) counts.ended += 1;
    this.#requests.series(`${method}\u0000${tool}\u0000${service}\u0000${outcome}`, { method, tool, service, outcome }).value += 1;
    this.#duration.observe(this.#duration.series(`${method}\u0000${service}`, { method, service }), seconds);
  }

  /** The upstream part of a request. */
  upstream(method: string, service: string, seconds: number): void {
    this.#upstream.observe(this.#upstream.series(`${method}\u0000${service}`, { method, service }), seconds);
  }

  /** A refusal before any method ran (`reason` is an error catalogue code). */
  refused(reason: string): void {
    this.#refusals.series(reason, { reason }).value += 1;
  }

  /** The text a scrape gets, and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
