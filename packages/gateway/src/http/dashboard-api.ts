import type { AuthVariables } from '@meshgate/service-kit';
import { Hono } from 'hono';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { GatewayMetrics } from '../observability/metrics.js';

type Env = { Variables: AuthVariables<GatewayIdentity> };

/** One service's request totals since the gateway started, as `/metrics` counts them. */
export interface ServiceStats {
  /** Requests routed to the service (tools/call, prompts/get, resources/read), by any outcome. */
  calls: number;
  /** Of those, the ones that did not end `ok` (tool errors, errors, cancellations). */
  failures: number;
  /** Sum and count of meshgate_request_duration_seconds: the mean latency is their ratio. */
  durationSecondsSum: number;
  durationCount: number;
}

/**
 * The per-service totals of the prom-client registry's JSON (the same numbers a scrape of
 * `/metrics` reads): meshgate_requests_total and meshgate_request_duration_seconds, summed
 * over methods and tools. Requests routed to no service (listings, pings) are left out.
 */
export function serviceStats(metrics: readonly MetricObjectWithValues<MetricValue<string>>[]): Record<string, ServiceStats> {
  const stats: Record<string, ServiceStats> = {};
  const of = (service: string) => {
    stats[service] ??= { calls: 0, failures: 0, durationSecondsSum: 0, durationCount: 0 };
    return stats[service];
  };
  for (const metric of metrics) {
    for (const value of metric.values) {
      const service = value.labels['service'];
      if (typeof service !== 'string' || service === '') continue;
      if (metric.name === 'meshgate_requests_total') {
        of(service).calls += value.value;
        if (value.labels['outcome'] !== 'ok') of(service).failures += value.value;
      } else if (metric.name === 'meshgate_request_duration_seconds') {
        const name = (value as { metricName?: string }).metricName;
        if (name === 'meshgate_request_duration_seconds_sum') of(service).durationSecondsSum += value.value;
        else if (name === 'meshgate_request_duration_seconds_count') of(service).durationCount += value.value;
      }
    }
  }
  return stats;
}

/**
 * The two endpoints the dashboard adds to the admin API. `GET /stats` (any role): the per-service totals the dashboard turns into calls per minute
 * and latency (the difference between two readings). `/metrics` itself is for scrapers
 * (loopback or its own token); this reads the same registry behind the admin API's tokens.
 * A token without the admin role gets only the services its `/services` view shows.
 * `metrics` undefined (metrics turned off): `{ enabled: false }`.
 */
export function dashboardApiRoutes(metrics: GatewayMetrics | undefined, visible: (identity: GatewayIdentity) => (service: string) => boolean): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/stats', async (c) => {
    c.header('cache-control', 'no-store');
    if (metrics === undefined) return c.json({ enabled: false, at: new Date().toISOString(), services: {} });
    const sees = visible(c.get('identity'));
    const all = serviceStats(await metrics.registry.getMetricsAsJSON());
    return c.json({ enabled: true, at: new Date().toISOString(), services: Object.fromEntries(Object.entries(all).filter(([name]) => sees(name))) });
  });
  // `GET /whoami` (any role): the caller's identity name and roles, so the dashboard shows only
  // the buttons the token may use (the routes check the role again on every change).
  app.get('/whoami', (c) => {
    const identity = c.get('identity');
    return c.json({ identity: identity.name, roles: [...identity.roles].sort() });
  });
  return app;
}
