/**
 * Interleaved rounds, shared by every workload: A → B → C → A → B → C ..., so every
 * configuration sees the same machine conditions, each run with the CPU time per request
 * of every watched process (from /proc), summarised as medians with their spread.
 */
import { cpuMs } from './mesh.mjs';
import { ratio, summarize } from './stats.mjs';

/** Runs `load` and adds, for each `watched` key (e.g. gatewayCpuUs) and pid, that process's CPU µs per request. */
export async function measured(watched, load) {
  const before = Object.fromEntries(Object.entries(watched).map(([key, pid]) => [key, cpuMs(pid)]));
  const run = await load();
  for (const [key, pid] of Object.entries(watched)) run[key] = run.requests > 0 ? ((cpuMs(pid) - before[key]) * 1000) / run.requests : NaN;
  return run;
}

/**
 * `rounds` rounds of `load(config)` for every config in turn; returns { title, configs
 * (summaries with their runs), ratios (req/s to `direct` and to `floor`, where measured) }.
 */
export async function interleaved({ title, configs, rounds, watched, load, log, show }) {
  const runs = Object.fromEntries(configs.map((config) => [config, []]));
  for (let round = 1; round <= rounds; round += 1) {
    for (const config of configs) {
      const run = await measured(watched, () => load(config));
      runs[config].push(run);
      log(`${title} · round ${round}/${rounds} · ${config}: ${show(run)}`);
    }
  }
  const summaries = Object.fromEntries(configs.map((config) => [config, { ...summarize(runs[config]), runs: runs[config] }]));
  const ratios = {};
  for (const config of configs) {
    ratios[config] = {
      toDirect: summaries.direct ? ratio(summaries[config].rps, summaries.direct.rps) : NaN,
      toFloor: summaries.floor ? ratio(summaries[config].rps, summaries.floor.rps) : NaN,
    };
  }
  return { title, configs: summaries, ratios };
}
