/**
 * Pinned tool definitions: the digest of what a tool was when first approved, to hold back
 * a later change ("rug pull") until an admin approves it. Pure.
 */
import { createHash } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/server';

/** `off`; `serve-pinned`: a changed tool is served as pinned (calls still go to the service); `withhold`: a changed tool is not served. */
export type PinMode = 'off' | 'serve-pinned' | 'withhold';
export const PIN_MODES: readonly PinMode[] = ['off', 'serve-pinned', 'withhold'];

/** What is pinned of a tool: the fields a model reads and a call depends on. */
export const PINNED_FIELDS = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;
export type PinnedField = (typeof PINNED_FIELDS)[number];

/** One approved definition, kept in the registry store. */
export interface ToolPin {
  service: string;
  /** The tool's upstream name. */
  tool: string;
  /** `definitionDigest` of `definition`. */
  digest: string;
  /** The whole tool as approved (served in its place while a change is held back). */
  definition: Tool;
  approvedAt: string;
  /** `first-seen` when pinned on first sight, else the admin identity that approved it. */
  approvedBy: string;
}

/** JSON with object keys sorted at every level and no whitespace: the same value gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

function pinned(tool: Tool): Record<string, unknown> {
  return Object.fromEntries(PINNED_FIELDS.map((field) => [field, (tool as Record<string, unknown>)[field]]));
}

/** `sha256:<hex>` of the canonical JSON of the tool's PINNED_FIELDS. */
export function definitionDigest(tool: Tool): string {
  return `sha256:${createHash('sha256')
    .update(canonicalJson(pinned(tool)))
    .digest('hex')}`;
}

/** A pinned field that differs: before (pinned) and after (as the service lists it now). */
export interface FieldChange {
  field: PinnedField;
  before: unknown;
  after: unknown;
}

export function changedFields(before: Tool, after: Tool): FieldChange[] {
  const a = pinned(before);
  const b = pinned(after);
  return PINNED_FIELDS.filter((field) => canonicalJson(a[field]) !== canonicalJson(b[field])).map((field) => ({
    field,
    before: a[field] ?? null,
    after: b[field] ?? null,
  }));
}
