import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from './hot-metrics.js';

describe('hot metrics in a prom-client registry', () => {
  it('expose counters and cumulative histogram buckets (le inclusive) in the text format', async () => {
    const registry = new Registry();
    const counter = new HotCounter('t_requests_total', 'requests', registry);
    const histogram = new HotHistogram('t_seconds', 'latency', registry, [0.1, 1]);
    counter.series('a', { method: 'tools/call' }).value += 2;
    const series = histogram.series('a', { method: 'tools/call' });
    for (const value of [0.05, 0.1, 0.5, 3]) histogram.observe(series, value);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE t_requests_total counter');
    expect(text).toContain('t_requests_total{method="tools/call"} 2');
    expect(text).toContain('# TYPE t_seconds histogram');
    expect(text).toContain('t_seconds_bucket{method="tools/call",le="0.1"} 2');
    expect(text).toContain('t_seconds_bucket{method="tools/call",le="1"} 3');
    expect(text).toContain('t_seconds_bucket{method="tools/call",le="+Inf"} 4');
    expect(text).toContain('t_seconds_sum{method="tools/call"} 3.65');
    expect(text).toContain('t_seconds_count{method="tools/call"} 4');
  });

  it('keep one series per key', () => {
    const counter = new HotCounter('t_total', 'x', new Registry());
    expect(counter.series('k', { a: '1' })).toBe(counter.series('k', { a: '1' }));
  });
});
