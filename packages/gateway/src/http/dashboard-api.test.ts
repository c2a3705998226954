import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from '../observability/metrics.js';
import { serviceStats } from './dashboard-api.js';

describe('serviceStats', () => {
  it('sums calls, failures and latency per service from the metrics registry, leaving out requests routed to no service', async () => {
    const metrics = new GatewayMetrics({
      sessions: () => 0,
      services: () => [],
      catalog: () => ({ tools: 0, prompts: 0, resources: 0, resourceTemplates: 0 }),
    });
    metrics.ended('tools/call', 'getProductById', 'shopping-service', 'ok', 0.01);
    metrics.ended('tools/call', 'getProductById', 'shopping-service', 'tool_error', 0.03);
    metrics.ended('prompts/get', 'greet', 'shopping-service', 'error', 0.02);
    metrics.ended('tools/call', 'getUserById', 'user-service', 'ok', 0.5);
    metrics.ended('tools/list', '', '', 'ok', 0.001);
    const stats = serviceStats(await metrics.registry.getMetricsAsJSON());
    expect(Object.keys(stats).sort()).toEqual(['shopping-service', 'user-service']);
    expect(stats['shopping-service']).toMatchObject({ calls: 3, failures: 2, durationCount: 3 });
    expect(stats['shopping-service']?.durationSecondsSum).toBeCloseTo(0.06);
    expect(stats['user-service']).toMatchObject({ calls: 1, failures: 0, durationCount: 1, durationSecondsSum: 0.5 });
  });
});
