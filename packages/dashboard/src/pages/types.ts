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
