import type { Registry } from 'prom-client';

/**
 * Counters and histograms kept as plain numbers on the hot path and handed to prom-client's
 * registry only when scraped. prom-client's own `inc`/`observe` hash the label object on
 * every call, even through a `labels(...)` child; here a call site holds its series and
 * adds to it. The text format, the registry and every other metric stay prom-client's.
 */

type Labels = Record<string, string>;

interface MetricValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** What prom-client's registry asks of a metric: a name and its current values. */
interface Exposed {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }>;
  reset(): void;
}

export interface CounterSeries {
  value: number;
}

export interface HistogramSeries {
  /** Observations per bucket, not cumulative; the last one is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

abstract class HotMetric<S> implements Exposed {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  protected readonly all = new Map<string, { labels: Labels; series: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series of `labels`, made once; `key` identifies it (callers build it from the label values). */
  series(key: string, labels: Labels): S {
    let entry = this.all.get(key);
    if (entry === undefined) {
      entry = { labels, series: this.create() };
      this.all.set(key, entry);
    }
    return entry.series;
  }

  reset(): void {
    this.all.clear();
  }

  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  protected abstract create(): S;
  protected abstract values(): MetricValue[];
}

export class HotCounter extends HotMetric<CounterSeries> {
  readonly type = 'counter' as const;

  protected create(): CounterSeries {
    return { value: 0 };
  }

  protected values(): MetricValue[] {
    return [...this.all.values()].map(({ labels, series }) => ({ value: series.value, labels }));
  }
}

export class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    registry: Registry,
    private readonly buckets: readonly number[],
  ) {
    super(name, help, registry);
  }

  /** Adds one observation: the first bucket whose bound is at least `value` (Prometheus's `le`). */
  observe(series: HistogramSeries, value: number): void {
    const { buckets } = this;
    let index = 0;
    while (index < buckets.length && value > (buckets[index] as number)) index += 1;
    series.counts[index] = (series.counts[index] as number) + 1;
    series.sum += value;
    series.count += 1;
  }

  protected create(): HistogramSeries {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const { labels, series } of this.all.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += series.counts[index] as number;
        values.push({ value: cumulative, labels: { ...labels, le: String(bound) }, metricName: `${this.name}_bucket` });
      });
      values.push({ value: series.count, labels: { ...labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: series.sum, labels, metricName: `${this.name}_sum` });
      values.push({ value: series.count, labels, metricName: `${this.name}_count` });
    }
    return values;
  }
}
