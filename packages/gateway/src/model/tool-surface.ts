/**
 * What clients see of one service's tools: its listing through pinning (model/pins.ts),
 * hygiene (model/hygiene.ts) and overrides (model/overrides.ts), in that order. Pinning
 * judges the definition exactly as the service sent it; hygiene cleans and flags the
 * service's text; overrides are the operator's own text and are applied last, unchanged.
 * Pure: new pins are returned for the caller to keep.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { type FlagRule, instructionFlags, stripInvisible } from './hygiene.js';
import { applyToolOverrides, type OverrideProblem, type ToolOverrides } from './overrides.js';
import { changedFields, definitionDigest, type FieldChange, type PinMode, type ToolPin } from './pins.js';

/** How one service's tools are surfaced: its own settings over the gateway's. */
export interface SurfaceSettings {
  overrides?: ToolOverrides | undefined;
  pin: PinMode;
  /** Strip ANSI escapes, controls and invisible characters from titles and descriptions. */
  strip: boolean;
  /** Flag titles and descriptions that read like instructions to the model. */
  flag: boolean;
}

/** A change of a pinned tool that is held back until an admin approves it. */
export interface HeldChange {
  tool: string;
  pinnedDigest: string;
  digest: string;
  /** `pinned`: the pinned definition is served; `withheld`: the tool is not served. */
  served: 'pinned' | 'withheld';
  pinnedAt: string;
  changes: FieldChange[];
}

export interface ToolFlag {
  tool: string;
  field: 'title' | 'description';
  rules: FlagRule[];
}

/** What `/services` shows of how a service's tools were surfaced. */
export interface SurfaceReport {
  overrideProblems: OverrideProblem[];
  held: HeldChange[];
  flags: ToolFlag[];
  /** Tools whose title or description had characters stripped. */
  stripped: string[];
}

export interface SurfacedTools {
  tools: Tool[];
  /** Surfaced name -> upstream name, for renamed tools. */
  upstreamOf: Map<string, string>;
  report: SurfaceReport;
  /** Tools seen for the first time while pinning is on: pinned as they are. */
  newPins: ToolPin[];
}

export const EMPTY_REPORT: SurfaceReport = Object.freeze({ overrideProblems: [], held: [], flags: [], stripped: [] }) as unknown as SurfaceReport;

/**
 * Surfaces `tools` of `service`. `pins` are its pinned definitions by upstream name; a tool
 * without one is pinned as it is only when `live` (a configured fallback or stored catalog
 * is no approval), and a held one is served as pinned or left out as `settings.pin` says.
 */
export function surfaceTools(
  service: string,
  tools: readonly Tool[],
  settings: SurfaceSettings,
  pins: ReadonlyMap<string, ToolPin>,
  live: boolean,
  now: string,
): SurfacedTools {
  const report: SurfaceReport = { overrideProblems: [], held: [], flags: [], stripped: [] };
  const newPins: ToolPin[] = [];
  let served: Tool[] = [...tools];
  if (settings.pin !== 'off') {
    served = [];
    for (const tool of tools) {
      const pin = pins.get(tool.name);
      const digest = definitionDigest(tool);
      if (pin === undefined) {
        if (live) newPins.push({ service, tool: tool.name, digest, definition: tool, approvedAt: now, approvedBy: 'first-seen' });
        served.push(tool);
      } else if (pin.digest === digest) {
        served.push(tool);
      } else {
        const withheld = settings.pin === 'withhold';
        report.held.push({
          tool: tool.name,
          pinnedDigest: pin.digest,
          digest,
          served: withheld ? 'withheld' : 'pinned',
          pinnedAt: pin.approvedAt,
          changes: changedFields(pin.definition, tool),
        });
        if (!withheld) served.push({ ...pin.definition, name: tool.name });
      }
    }
  }
  if (settings.flag || settings.strip) served = served.map((tool) => cleaned(tool, settings, report));
  const { tools: surfaced, upstreamOf, problems } = applyToolOverrides(served, settings.overrides);
  report.overrideProblems = problems;
  return { tools: surfaced, upstreamOf, report, newPins };
}

function cleaned(tool: Tool, settings: SurfaceSettings, report: SurfaceReport): Tool {
  for (const field of ['title', 'description'] as const) {
    const text = tool[field];
    if (!settings.flag || typeof text !== 'string') continue;
    const rules = instructionFlags(text);
    if (rules.length > 0) report.flags.push({ tool: tool.name, field, rules });
  }
  if (!settings.strip) return tool;
  const next: Tool = { ...tool };
  if (typeof tool.title === 'string') next.title = stripInvisible(tool.title);
  if (typeof tool.description === 'string') next.description = stripInvisible(tool.description);
  const annotationTitle = tool.annotations?.title;
  if (typeof annotationTitle === 'string' && stripInvisible(annotationTitle) !== annotationTitle)
    next.annotations = { ...tool.annotations, title: stripInvisible(annotationTitle) };
  if (next.title === tool.title && next.description === tool.description && next.annotations === tool.annotations) return tool;
  report.stripped.push(tool.name);
  return next;
}
