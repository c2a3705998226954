/**
 * The rows every SQL store writes and reads (SQLite and Postgres keep the same columns):
 * records to rows with literal secrets sealed, rows back to records with every JSON
 * column checked, so a torn or hand-edited row is a loud error naming it, never skipped.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { GatewayError } from '../errors.js';
import type { Listings } from '../model/catalog.js';
import type { ToolPin } from '../model/pins.js';
import type { CatalogSnapshot, CommandSpec, ServiceRecord, ToolSurfaceSpec } from '../model/service.js';
import type { VirtualServerRecord } from '../model/virtual-server.js';
import { type StoredCredential, sealCredential, unsealCredential } from './secrets.js';
import type { AuditEntry, AuditQuery } from './types.js';

export interface ServiceRow {
  name: string;
  /** Exactly one of `url` and `command` (JSON) is set. */
  url: string | null;
  command: string | null;
  source: ServiceRecord['source'];
  credential: string;
  transport: string | null;
  fallback_tools: string | null;
  /** The service's tool surface (overrides, pinning, hygiene) as JSON. */
  surface: string | null;
  created_at: string;
  updated_at: string;
}

export interface VirtualServerRow {
  name: string;
  /** JSON: the selectors, mode and description (model/virtual-server.ts). */
  definition: string;
  created_at: string;
  updated_at: string;
}

export interface PinRow {
  service: string;
  tool: string;
  digest: string;
  definition: string;
  approved_at: string;
  approved_by: string;
}

export interface CatalogRow {
  service: string;
  tools: string;
  other_listings: string | null;
  seen_at: string;
}

export interface AuditRow {
  seq: number;
  at: string;
  kind: AuditEntry['kind'];
  identity: string;
  service: string | null;
  target: string | null;
  outcome: AuditEntry['outcome'];
  code: string | null;
  duration_ms: number | null;
  request_id: string | null;
  detail: string | null;
}

/** The columns of `services`, in the order the stores write them. */
export const SERVICE_COLUMNS = [
  'name',
  'url',
  'command',
  'source',
  'credential',
  'transport',
  'fallback_tools',
  'surface',
  'created_at',
  'updated_at',
] as const;
/** The columns of `tool_pins`; (service, tool) is the key. */
export const PIN_COLUMNS = ['service', 'tool', 'digest', 'definition', 'approved_at', 'approved_by'] as const;
/** The columns of `audit` an append writes (`seq` is the store's). */
export const AUDIT_COLUMNS = ['at', 'kind', 'identity', 'service', 'target', 'outcome', 'code', 'duration_ms', 'request_id', 'detail'] as const;

/** The filters of an audit query: the query's key, the fixed column and operator it compares with (values are bound). */
export const AUDIT_FILTERS: readonly [keyof AuditQuery, string, '=' | '>=' | '<' | '>'][] = [
  ['identity', 'identity', '='],
  ['service', 'service', '='],
  ['target', 'target', '='],
  ['kind', 'kind', '='],
  ['outcome', 'outcome', '='],
  ['since', 'at', '>='],
  ['until', 'at', '<'],
  ['after', 'seq', '>'],
];

/** The WHERE clauses of `query` (placeholder made by `param` from the filter's position among those used) and their values. */
export function auditWhere(query: AuditQuery, param: (key: string, index: number) => string): { clauses: string[]; values: Record<string, unknown> } {
  const used = AUDIT_FILTERS.filter(([key]) => query[key] !== undefined);
  return {
    clauses: used.map(([key, column, op], index) => `${column} ${op} ${param(key, index)}`),
    values: Object.fromEntries(used.map(([key]) => [key, query[key]])),
  };
}

export function toAuditRow(entry: AuditEntry): Omit<AuditRow, 'seq'> {
  return {
    at: entry.at,
    kind: entry.kind,
    identity: entry.identity,
    service: entry.service,
    target: entry.target,
    outcome: entry.outcome,
    code: entry.code,
    duration_ms: entry.durationMs,
    request_id: entry.requestId,
    detail: entry.detail === null ? null : JSON.stringify(entry.detail),
  };
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    seq: Number(row.seq),
    at: row.at,
    kind: row.kind,
    identity: row.identity,
    service: row.service,
    target: row.target,
    outcome: row.outcome,
    code: row.code,
    durationMs: row.duration_ms,
    requestId: row.request_id,
    detail: row.detail === null ? null : parseColumn<Record<string, unknown>>('audit', String(row.seq), 'detail', row.detail, isObject),
  };
}

type OtherListings = Omit<Listings, 'tools'>;
const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses one JSON column; a bad row is a loud error naming where it is, never skipped. */
function parseColumn<T>(table: string, key: string, column: string, text: string, isShape: (value: unknown) => boolean): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GatewayError('store_error', `${table} row '${key}': column ${column} is not valid JSON (${(error as Error).message})`, { table, key });
  }
  if (!isShape(value)) throw new GatewayError('store_error', `${table} row '${key}': column ${column} has the wrong shape`, { table, key });
  return value as T;
}

const isCredential = (value: unknown): boolean => typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

const isCommand = (value: unknown): boolean => {
  const spec = value as Partial<CommandSpec> | null;
  return isObject(spec) && typeof spec?.command === 'string' && Array.isArray(spec.args) && isObject(spec.env) && typeof spec.stdio === 'string';
};

const isTransport = (value: string | null): value is NonNullable<ServiceRecord['transport']> =>
  value === 'auto' || value === 'streamable-http' || value === 'sse';

/** The row to write: literal secrets sealed with `key` (throws without one, see secrets.ts). */
export function toServiceRow(record: ServiceRecord, key: Buffer | undefined): ServiceRow {
  return {
    name: record.name,
    url: record.url ?? null,
    command: record.command === undefined ? null : JSON.stringify(record.command),
    source: record.source,
    credential: JSON.stringify(sealCredential(record.credential, key, record.name)),
    transport: record.transport ?? null,
    fallback_tools: record.fallbackTools === undefined ? null : JSON.stringify(record.fallbackTools),
    surface: record.surface === undefined ? null : JSON.stringify(record.surface),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

export function toServiceRecord(row: ServiceRow, key: Buffer | undefined, warn: (message: string) => void): ServiceRecord {
  const stored = parseColumn<StoredCredential>('services', row.name, 'credential', row.credential, isCredential);
  const { spec, problem } = unsealCredential(stored, key, row.name);
  if (problem !== undefined) warn(problem);
  const common = {
    name: row.name,
    source: row.source,
    credential: spec,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.fallback_tools === null ? {} : { fallbackTools: parseColumn<Tool[]>('services', row.name, 'fallback_tools', row.fallback_tools, Array.isArray) }),
    ...(row.surface === null ? {} : { surface: parseColumn<ToolSurfaceSpec>('services', row.name, 'surface', row.surface, isObject) }),
  };
  if (row.command !== null) return { ...common, command: parseColumn<CommandSpec>('services', row.name, 'command', row.command, isCommand) };
  if (row.url === null)
    throw new GatewayError('store_error', `services row '${row.name}': neither url nor command is set`, { table: 'services', key: row.name });
  const transport = isTransport(row.transport) ? { transport: row.transport } : {};
  return { ...common, url: row.url, ...transport };
}

export function toCatalogRow(snapshot: CatalogSnapshot): CatalogRow {
  const { prompts, resources, resourceTemplates } = snapshot;
  return {
    service: snapshot.service,
    tools: JSON.stringify(snapshot.tools),
    other_listings: JSON.stringify({ prompts, resources, resourceTemplates } satisfies OtherListings),
    seen_at: snapshot.seenAt,
  };
}

export function toCatalogSnapshot(row: CatalogRow): CatalogSnapshot {
  const other =
    row.other_listings === null ? undefined : parseColumn<Partial<OtherListings>>('catalogs', row.service, 'other_listings', row.other_listings, isObject);
  return {
    service: row.service,
    tools: parseColumn<Tool[]>('catalogs', row.service, 'tools', row.tools, Array.isArray),
    prompts: other?.prompts ?? [],
    resources: other?.resources ?? [],
    resourceTemplates: other?.resourceTemplates ?? [],
    seenAt: row.seen_at,
  };
}

export function toPinRow(pin: ToolPin): PinRow {
  return {
    service: pin.service,
    tool: pin.tool,
    digest: pin.digest,
    definition: JSON.stringify(pin.definition),
    approved_at: pin.approvedAt,
    approved_by: pin.approvedBy,
  };
}

export function toPin(row: PinRow): ToolPin {
  return {
    service: row.service,
    tool: row.tool,
    digest: row.digest,
    definition: parseColumn<Tool>('tool_pins', `${row.service}/${row.tool}`, 'definition', row.definition, isObject),
    approvedAt: row.approved_at,
    approvedBy: row.approved_by,
  };
}

export function toVirtualServerRow(record: VirtualServerRecord): VirtualServerRow {
  const { name, source: _source, createdAt, updatedAt, ...definition } = record;
  return { name, definition: JSON.stringify(definition), created_at: createdAt, updated_at: updatedAt };
}

/** A stored virtual server: always one made through the admin API (configured ones live in configuration). */
export function toVirtualServer(row: VirtualServerRow): VirtualServerRecord {
  type Definition = Omit<VirtualServerRecord, 'name' | 'source' | 'createdAt' | 'updatedAt'>;
  return {
    ...parseColumn<Definition>('virtual_servers', row.name, 'definition', row.definition, isObject),
    name: row.name,
    source: 'registered',
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
