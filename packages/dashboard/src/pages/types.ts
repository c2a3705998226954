/** The shapes the dashboard reads from the gateway (docs/dashboard.md lists the endpoints). */

export interface NamedItem {
  name: string;
  upstreamName?: string;
}

/** A service in `GET /services`: the admin view has every field, the client view only the first ones. */
export interface ServiceView {
  name: string;
  status: string;
  tools: NamedItem[];
  prompts: NamedItem[];
  resources: NamedItem[];
  resourceTemplates: NamedItem[];
  url?: string;
  transport?: string;
  command?: { command: string; args: string[] };
  source?: string;
  circuit?: string;
  lastError?: string | null;
  lastSeenAt?: string | null;
  rejected?: unknown[];
  clashes?: unknown[];
  credential?: unknown;
  /** How its tools are surfaced (admin view): overrides that did not apply, held changes, flags. */
  surface?: SurfaceView;
}

/** A change of a pinned tool held back until an admin approves it. */
export interface HeldChange {
  tool: string;
  digest: string;
  served: string;
  changes: { field: string; before: unknown; after: unknown }[];
}

export interface SurfaceView {
  pin: string;
  held: HeldChange[];
  flags: { tool: string; field: string; rules: string[] }[];
  overrideProblems: { tool: string; problem: string }[];
}

export interface ServiceStats {
  calls: number;
  failures: number;
  durationSecondsSum: number;
  durationCount: number;
}

export interface StatsAnswer {
  enabled: boolean;
  at: string;
  services: Record<string, ServiceStats>;
}

export interface ToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: { type?: string; properties?: Record<string, Record<string, unknown>>; required?: string[] };
  outputSchema?: unknown;
}
