import { api } from '../api.js';
import { badge, errorBox, h, table } from '../dom.js';
import type { Context, Mount } from './context.js';
import type { ServiceStats, ServiceView, StatsAnswer } from './types.js';

/** How often the overview reads `/services` and `/stats` again. */
const REFRESH_MS = 5_000;

interface Reading {
  at: number;
  services: Record<string, ServiceStats>;
}

/** Calls per minute and mean latency between two readings (the first reading alone: totals only). */
export function rates(previous: ServiceStats | undefined, current: ServiceStats | undefined, seconds: number) {
  if (current === undefined) return { perMinute: undefined, latencyMs: undefined };
  const calls = previous === undefined || seconds <= 0 ? undefined : current.calls - previous.calls;
  const count = current.durationCount - (previous?.durationCount ?? 0);
  const sum = current.durationSecondsSum - (previous?.durationSecondsSum ?? 0);
  // No call in the window: the mean since the start is still worth showing.
  const latency = count > 0 ? sum / count : current.durationCount > 0 ? current.durationSecondsSum / current.durationCount : undefined;
  return { perMinute: calls === undefined ? undefined : (calls * 60) / seconds, latencyMs: latency === undefined ? undefined : latency * 1000 };
}

/** The services: status, circuit, last error, tool count, calls per minute and latency. */
export async function overviewPage(context: Context, mount: Mount): Promise<() => void> {
  let previous: Reading | undefined;
  let stopped = false;
  const render = async () => {
    const [{ services }, stats] = await Promise.all([
      api<{ services: ServiceView[] }>('GET', '/services'),
      api<StatsAnswer>('GET', '/stats').catch(() => undefined),
    ]);
    if (stopped) return;
    const reading: Reading | undefined = stats?.enabled === true ? { at: Date.parse(stats.at), services: stats.services } : undefined;
    const seconds = previous === undefined || reading === undefined ? 0 : (reading.at - previous.at) / 1000;
    const rows = services.map((service) => {
      const current = reading?.services[service.name];
      const { perMinute, latencyMs } = rates(previous?.services[service.name], current, seconds);
      return [
        h('a', { href: `#/services/${encodeURIComponent(service.name)}`, 'data-testid': `service-${service.name}` }, service.name),
        h('span', { 'data-testid': `status-${service.name}` }, badge(service.status)),
        service.circuit === undefined ? '—' : badge(service.circuit),
        service.lastError ?? '—',
        String(service.tools.length),
        h('span', { 'data-testid': `calls-${service.name}` }, current === undefined ? '0' : String(current.calls)),
        h('span', { 'data-testid': `rate-${service.name}` }, perMinute === undefined ? '—' : perMinute.toFixed(1)),
        h('span', { 'data-testid': `latency-${service.name}` }, latencyMs === undefined ? '—' : `${latencyMs.toFixed(1)} ms`),
      ];
    });
    if (reading !== undefined) previous = reading;
    mount(
      h(
        'section',
        {},
        h('h2', {}, 'Services'),
        context.admin ? h('p', {}, h('a', { href: '#/register', class: 'button', 'data-testid': 'register-link' }, 'Register a service')) : null,
        table(['Service', 'Status', 'Circuit', 'Last error', 'Tools', 'Calls', 'Calls/min', 'Mean latency'], rows, 'services'),
        h(
          'p',
          { class: 'hint' },
          stats?.enabled === false
            ? 'Metrics are turned off on this gateway: no calls or latency.'
            : `Calls and latency from the gateway's metrics (GET /stats); calls per minute over the last ${REFRESH_MS / 1000} s.`,
        ),
      ),
    );
  };
  await render();
  const timer = setInterval(() => {
    render().catch((error: unknown) => {
      if (!stopped) mount(errorBox(error));
    });
  }, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
