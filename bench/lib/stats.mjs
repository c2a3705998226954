/** Summaries over interleaved rounds: median and spread (min–max) of each metric. */

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function spread(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? [NaN, NaN] : [Math.min(...finite), Math.max(...finite)];
}

/** Throughput and latency, then the CPU per request of every process watched (gatewayCpuUs, backendCpuUs, baselineCpuUs, ...). */
const metricsOf = (runs) => ['rps', 'p50', 'p99', ...new Set(runs.flatMap((run) => Object.keys(run).filter((key) => key.endsWith('CpuUs'))))];

/** Median and min–max of every metric over a configuration's runs, plus total requests and errors. */
export function summarize(runs) {
  const summary = { rounds: runs.length, requests: 0, errors: 0 };
  for (const run of runs) {
    summary.requests += run.requests;
    summary.errors += run.errors;
  }
  for (const metric of metricsOf(runs)) {
    const values = runs.map((run) => run[metric]).filter((v) => v !== undefined);
    if (values.length === 0) continue;
    summary[metric] = median(values);
    summary[`${metric}Range`] = spread(values);
  }
  return summary;
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
