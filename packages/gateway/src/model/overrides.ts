/**
 * Tool overrides: what an operator changes of a service's tools before clients see them
 * (rename, replace the title or description, set or remove annotations, hide). One block
 * shape for a service (config file, registration) and, later, a virtual server, applied
 * by one function. Pure: the result says which upstream name every surfaced name routes to.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { SAFE_TOOL_NAME } from './naming.js';

const hint = z.boolean().nullable().optional();

/** What one override may change; `null` in `annotations` removes that annotation. */
export const toolOverrideSchema = z.strictObject({
  /** The name clients see; the tool still routes to its upstream name, which is no longer callable. */
  name: z.string().regex(SAFE_TOOL_NAME, 'must be 1 to 64 letters, digits, "_" or "-"').optional(),
  title: z.string().max(256, 'is longer than 256 characters').optional(),
  description: z.string().max(16_384, 'is longer than 16384 characters').optional(),
  /** Merged over the tool's own annotations, key by key. */
  annotations: z
    .strictObject({
      title: z.string().max(256).nullable().optional(),
      readOnlyHint: hint,
      destructiveHint: hint,
      idempotentHint: hint,
      openWorldHint: hint,
    })
    .optional(),
  /** Not listed and not callable. */
  hidden: z.boolean().optional(),
});
export type ToolOverride = z.infer<typeof toolOverrideSchema>;

/** Overrides keyed by the tool's upstream name. */
export const toolOverridesSchema = z.record(z.string().min(1).max(512), toolOverrideSchema);
export type ToolOverrides = z.infer<typeof toolOverridesSchema>;

/** An override that could not be applied, reported in `/services` (never fatal). */
export interface OverrideProblem {
  tool: string;
  problem: string;
}

export interface OverriddenTools {
  /** The tools as clients see them, in the service's order, hidden ones left out. */
  tools: Tool[];
  /** Surfaced name -> upstream name, for every tool whose name changed. */
  upstreamOf: Map<string, string>;
  problems: OverrideProblem[];
}

/**
 * Applies `overrides` to `tools` (keyed by `nameOf`, the upstream name by default). A rename
 * to a name another tool of the same list already has (or gets) is refused and reported;
 * the tool keeps its own name. An override naming no tool is reported.
 */
export function applyToolOverrides(
  tools: readonly Tool[],
  overrides: ToolOverrides | undefined,
  nameOf: (tool: Tool) => string = (tool) => tool.name,
): OverriddenTools {
  const upstreamOf = new Map<string, string>();
  const problems: OverrideProblem[] = [];
  if (overrides === undefined || Object.keys(overrides).length === 0) return { tools: [...tools], upstreamOf, problems };
  const listed = new Set(tools.map(nameOf));
  for (const name of Object.keys(overrides)) if (!listed.has(name)) problems.push({ tool: name, problem: 'the service lists no tool of this name' });
  // Names that stay as they are (not renamed, not hidden) are taken first: a rename never steals one.
  const taken = new Set(
    tools.filter((tool) => overrides[nameOf(tool)]?.name === undefined && overrides[nameOf(tool)]?.hidden !== true).map((tool) => tool.name),
  );
  const out: Tool[] = [];
  for (const tool of tools) {
    const upstream = nameOf(tool);
    const override = Object.hasOwn(overrides, upstream) ? overrides[upstream] : undefined;
    if (override === undefined) {
      out.push(tool);
      continue;
    }
    if (override.hidden === true) continue;
    let name = tool.name;
    if (override.name !== undefined && override.name !== tool.name) {
      if (taken.has(override.name)) {
        problems.push({ tool: upstream, problem: `cannot be renamed to "${override.name}": another tool of this service has that name` });
        if (taken.has(tool.name)) continue; // its own name went to another rename: nothing left to show it under
      } else {
        name = override.name;
        upstreamOf.set(name, upstream);
      }
      taken.add(name);
    }
    out.push(overridden(tool, name, override));
  }
  return { tools: out, upstreamOf, problems };
}

function overridden(tool: Tool, name: string, override: ToolOverride): Tool {
  const next: Tool = { ...tool, name };
  if (override.title !== undefined) next.title = override.title;
  if (override.description !== undefined) next.description = override.description;
  if (override.annotations !== undefined) {
    const annotations: Record<string, unknown> = { ...tool.annotations };
    for (const [key, value] of Object.entries(override.annotations)) {
      if (value === null) delete annotations[key];
      else if (value !== undefined) annotations[key] = value;
    }
    if (Object.keys(annotations).length === 0) delete next.annotations;
    else next.annotations = annotations as Tool['annotations'];
  }
  return next;
}
