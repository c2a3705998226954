import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry as PromRegistry } from 'prom-client';
import type { CircuitView } from '../upstream/breaker.js';
import type { UpstreamStatus } from '../upstream/connection.js';

/** What the metrics read when scraped, rather than being told on every change. */
export interface MetricsSources {
  sessions(): number;
  services(): readonly { name: string; status: UpstreamStatus; circuit: CircuitView; reconnects: number }[];
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
 * value is bounded: methods are the method table's (anything else is `other`), tools and
 * services come from the catalog, outcomes and refusal reasons from fixed lists. Children
 * are cached by their label values, so a hot call does one map lookup per metric.
 */
export class GatewayMetrics {
  readonly registry = new PromRegistry();
  readonly #requests: Counter<'method' | 'tool' | 'service' | 'outcome'>;
  readonly #duration: Histogram<'method' | 'service'>;
  readonly #upstream: Histogram<'method' | 'service'>;
  readonly #inFlight: Gauge<'method'>;
  readonly #refusals: Counter<'reason'>;
  readonly #children = new Map<string, { inc(): void }>();
  readonly #timers = new Map<string, { observe(value: number): void }>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'meshgate_requests_total',
      help: 'MCP requests answered, by method, tool (as the catalog names it), service and outcome',
      labelNames: ['method', 'tool', 'service', 'outcome'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'meshgate_request_duration_seconds',
      help: 'Whole MCP requests, from arrival to answer, by method and service',
      labelNames: ['method', 'service'],
      buckets: BUCKETS,
      registers,
    });
    this.#upstream = new Histogram({
      name: 'meshgate_upstream_duration_seconds',
      help: "The upstream part of forwarded requests (the service's answer time as the gateway sees it), by method and service",
      labelNames: ['method', 'service'],
      buckets: BUCKETS,
      registers,
    });
    this.#inFlight = new Gauge({ name: 'meshgate_requests_in_flight', help: 'MCP requests being answered now', labelNames: ['method'], registers });
    this.#refusals = new Counter({
      name: 'meshgate_refusals_total',
      help: "Requests to /mcp refused before any method ran, by the error catalogue's code (unauthorized, forbidden, rate_limited, ...)",
      labelNames: ['reason'],
      registers,
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
    this.#inFlight.inc({ method });
  }

  /** One request ended after `seconds`; `upstreamSeconds` when part of it was a service's. */
  ended(method: string, tool: string, service: string, outcome: Outcome, seconds: number): void {
    this.#inFlight.dec({ method });
    const key = `${method}\u0000${tool}\u0000${service}\u0000${outcome}`;
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.#requests.labels(method, tool, service, outcome);
      this.#children.set(key, child);
    }
    child.inc();
    this.#timer(this.#duration, `${method}\u0000${service}`, method, service).observe(seconds);
  }

  /** The upstream part of a request. */
  upstream(method: string, service: string, seconds: number): void {
    this.#timer(this.#upstream, `u\u0000${method}\u0000${service}`, method, service).observe(seconds);
  }

  /** A refusal before any method ran (`reason` is an error catalogue code). */
  refused(reason: string): void {
    this.#refusals.inc({ reason });
  }

  /** The text a scrape gets, and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  #timer(histogram: Histogram<'method' | 'service'>, key: string, method: string, service: string) {
    let timer = this.#timers.get(key);
    if (timer === undefined) {
      timer = histogram.labels(method, service);
      this.#timers.set(key, timer);
    }
    return timer;
  }
}
