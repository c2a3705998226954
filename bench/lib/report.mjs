/** The Markdown form of a benchmark result. */

const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const range = (pair, digits = 0) =>
  pair && Number.isFinite(pair[0]) ? `${digits === 0 ? int(pair[0]) : fmt(pair[0], digits)}–${digits === 0 ? int(pair[1]) : fmt(pair[1], digits)}` : '';

/**
 * CPU of the hop itself: the forwarder's for the floor, none for direct, and for every
 * gateway configuration (gateway, variant, baseline) that gateway's own process.
 */
function hopCpu(config, s) {
  if (config === 'direct') return NaN;
  if (config === 'floor') return s.forwarderCpuUs;
  return s[`${config}CpuUs`] ?? NaN;
}

const pct = (value) => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%` : '–');
const change = (after, before) => (Number.isFinite(after) && Number.isFinite(before) && before !== 0 ? after / before - 1 : NaN);

/**
 * Before and after in one run: for each workload that measured `baseline`, the gateway's
 * CPU per call and its ratio to direct next to the baseline's, and the change.
 */
function baselineRows(result) {
  const rows = [];
  for (const workload of Object.values(result.workloads)) {
    const after = workload.configs.gateway;
    const before = workload.configs.baseline;
    if (!after || !before) continue;
    const cpu = change(hopCpu('gateway', after), hopCpu('baseline', before));
    const toDirect = change(workload.ratios?.gateway?.toDirect, workload.ratios?.baseline?.toDirect);
    const within = Number.isFinite(cpu) && Number.isFinite(toDirect) ? (cpu <= 0.05 && toDirect >= -0.05 ? 'yes' : 'no') : '–';
    rows.push(
      `| ${workload.title} | ${fmt(hopCpu('baseline', before), 0)} | ${fmt(hopCpu('gateway', after), 0)} | ${pct(cpu)} | ${fmt(workload.ratios?.baseline?.toDirect)} | ${fmt(workload.ratios?.gateway?.toDirect)} | ${pct(toDirect)} | ${within} |`,
    );
  }
  if (rows.length === 0) return [];
  const { meta } = result;
  return [
    '',
    `Before and after, in this run: baseline = ${meta.baselineRoot ?? 'another checkout'} (commit ${meta.baselineCommit ?? 'unknown'}), gateway = this checkout (commit ${meta.commit}). CPU is the gateway's own, in µs per call; a positive CPU change or a negative ratio change is a loss; "within 5%" means neither exceeds 5%.`,
    '',
    '| Workload | baseline CPU µs/call | gateway CPU µs/call | CPU change | baseline × direct | gateway × direct | × direct change | within 5% |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ];
}

function workloadRows(_key, workload) {
  const rows = [];
  for (const [config, s] of Object.entries(workload.configs)) {
    const r = workload.ratios?.[config] ?? {};
    rows.push(
      `| ${workload.title} | ${config} | ${int(s.rps)} (${range(s.rpsRange)}) | ${fmt(s.p50)} | ${fmt(s.p99)} | ${s.errors} | ${fmt(hopCpu(config, s), 0)} | ${fmt(s.backendCpuUs, 0)} | ${fmt(r.toDirect)} | ${fmt(r.toFloor)} |`,
    );
  }
  return rows;
}

function scaleMemoryLine(result) {
  const m = result.scaleMemory;
  if (!m) return [];
  return [
    `Scale gateway (wide) RSS: ${fmt(m.startMiB, 1)} MiB after start (${m.backends} backends, ${m.tools} tools); ${fmt(m.idleSessionsMiB, 1)} MiB with ${m.idleSessions ?? '–'} idle sessions open; ${fmt(m.afterLoadMiB, 1)} MiB after the scale load.`,
    '',
  ];
}

/** The sizes on the wire of the single tools/list answer, uncompressed and gzipped. */
function scaleListSizeLine(result) {
  const configs = result.workloads?.scale_list?.configs;
  const bytes = (config) => configs?.[config]?.runs?.find((run) => Number.isFinite(run.bytesPerResponse))?.bytesPerResponse;
  const whole = bytes('whole');
  const gzip = bytes('whole_gzip');
  if (whole === undefined || gzip === undefined) return [];
  return [
    `tools/list over ${result.scaleMemory?.tools ?? '–'} tools as one answer, on the wire: ${int(whole)} bytes; gzipped ${int(gzip)} bytes (×${fmt(gzip / whole, 3)}).`,
    '',
  ];
}

function steadyLines(steady) {
  if (!steady) return [];
  return [
    `Steady load (tools/call at c=${steady.connections}, ${steady.seconds} s after warm-up), gateway RSS every ${steady.sampleSeconds} s: ${steady.samples.map((sample) => fmt(sample.rssMiB, 1)).join(', ')} MiB (min ${fmt(steady.minMiB, 1)}, max ${fmt(steady.maxMiB, 1)}, +${fmt(steady.spread * 100, 1)}%).`,
    '',
  ];
}

export function toMarkdown(result) {
  const { meta } = result;
  const lines = [
    `# Meshgate benchmark${meta.smoke ? ' (smoke run: too short to mean anything)' : ''}`,
    '',
    `${meta.date} · Node ${meta.node} · ${meta.cpus} cores · ${meta.pinning} · ${meta.rounds} interleaved round(s) of ${meta.secondsPerRun} s per configuration · commit ${meta.commit}`,
    '',
    result.valid ? 'All answers were checked and were successful results.' : `**INVALID RUN: ${result.errors} request(s) failed or answered an error.**`,
    '',
    'req/s: median over rounds (min–max). Latency in ms (median of the per-round p50/p99). CPU in µs per call from /proc (utime+stime): the hop is the gateway (or variant, or baseline) or the forwarder. Ratios are of req/s.',
    '',
    '| Workload | Config | req/s | p50 ms | p99 ms | errors | hop CPU µs/call | backend CPU µs/call | × direct | × floor |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [key, workload] of Object.entries(result.workloads)) lines.push(...workloadRows(key, workload));
  lines.push(...baselineRows(result));
  const m = result.memory;
  lines.push(
    '',
    ...(Number.isFinite(m.startMiB)
      ? [
          `Gateway RSS: ${fmt(m.startMiB, 1)} MiB after start (${result.meta.backends} backends, ${result.meta.tools} tools); ${fmt(m.idleSessionsMiB, 1)} MiB with ${m.idleSessions} idle sessions open (measured before the load); ${fmt(m.afterLoadMiB, 1)} MiB after all the load.`,
          '',
        ]
      : []),
    ...steadyLines(m.steady),
    ...scaleMemoryLine(result),
    ...scaleListSizeLine(result),
    '| Target (issues 6 and 18) | Measured | Met |',
    '| --- | --- | --- |',
  );
  for (const target of result.targets) lines.push(`| ${target.text} | ${target.measured} | ${target.met ? 'met' : 'not met'} |`);
  lines.push('');
  return lines.join('\n');
}
