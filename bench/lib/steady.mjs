/**
 * The steady-load row (issue 18, `memory_steady`): tools/call at c=16 through the gateway
 * for a long time after a warm-up, the gateway's RSS sampled after every slice of it. Flat
 * memory means the largest sample is within 10% of the smallest: a leak per call, or a
 * cache that grows with the traffic, shows as a climb over the samples.
 */
import { postLoad } from './load.mjs';
import { rssMiB } from './mesh.mjs';

/** Sizes: a full run holds the load 10 minutes, sampled every 10 s; a smoke run, a moment. */
export const STEADY_PLANS = {
  full: { connections: 16, warmupSeconds: 30, seconds: 600, sampleSeconds: 10 },
  smoke: { connections: 16, warmupSeconds: 0.5, seconds: 2, sampleSeconds: 0.5 },
};

/** Runs the load in slices of `sampleSeconds` back to back, reading the gateway's RSS after each. */
export async function steadyMemory({ baseUrl, token, body, pid, size, log }) {
  log(`steady load: warming up for ${size.warmupSeconds} s at c=${size.connections}`);
  const warm = await postLoad({ baseUrl, token, body, connections: size.connections, seconds: size.warmupSeconds });
  const samples = [];
  let errors = warm.errors;
  const slices = Math.max(1, Math.round(size.seconds / size.sampleSeconds));
  log(`steady load: ${size.seconds} s at c=${size.connections}, RSS every ${size.sampleSeconds} s`);
  for (let slice = 1; slice <= slices; slice += 1) {
    const run = await postLoad({ baseUrl, token, body, connections: size.connections, seconds: size.sampleSeconds });
    errors += run.errors;
    samples.push({ atSeconds: slice * size.sampleSeconds, rssMiB: rssMiB(pid), rps: run.rps, requests: run.requests });
    if (slice % 6 === 0 || slice === slices) log(`steady load: ${slice * size.sampleSeconds} s, RSS ${samples.at(-1).rssMiB.toFixed(1)} MiB`);
  }
  const rss = samples.map((sample) => sample.rssMiB);
  const minMiB = Math.min(...rss);
  const maxMiB = Math.max(...rss);
  return {
    connections: size.connections,
    seconds: size.seconds,
    sampleSeconds: size.sampleSeconds,
    requests: samples.reduce((sum, sample) => sum + sample.requests, 0),
    errors,
    samples,
    firstMiB: rss[0],
    lastMiB: rss.at(-1),
    minMiB,
    maxMiB,
    spread: maxMiB / minMiB - 1,
  };
}

/** The report's line and the target of a steady run. */
export function steadyTarget(steady) {
  return {
    id: 'steady_memory',
    text: `RSS flat (max within 10% of min) over ${steady.seconds} s of tools/call at c=${steady.connections} after warm-up, sampled every ${steady.sampleSeconds} s`,
    value: steady.spread,
    measured: `${steady.minMiB.toFixed(1)}–${steady.maxMiB.toFixed(1)} MiB (+${(steady.spread * 100).toFixed(1)}%; first ${steady.firstMiB.toFixed(1)}, last ${steady.lastMiB.toFixed(1)}; ${steady.requests} calls)`,
    met: steady.spread <= 0.1,
  };
}
