/**
 * A virtual server: a named part of the federated catalog with an endpoint of its own
 * (`/servers/{name}/mcp`). What it selects is written in the selectors of token
 * allow-lists (auth/allow-list.ts): names, `<service>__*`, globs, `@annotation`.
 */

import type { ToolOverrides } from './overrides.js';

/** `catalog`: clients list and call the selected tools; `search`: they get `search_tools` and `call_tool` instead. */
export type VirtualServerMode = 'catalog' | 'search';
export const VIRTUAL_SERVER_MODES: readonly VirtualServerMode[] = ['catalog', 'search'];

/** What defines a virtual server, as the config file and the admin API give it. */
export interface VirtualServerSpec {
  /** Matches SERVICE_NAME_PATTERN: it is a path segment. */
  name: string;
  /** Selectors of the tools it serves. */
  tools: string[];
  /** Selectors of the prompts it serves (none unless given). */
  prompts?: string[];
  /** Selectors of the resources and resource templates it serves, by URI or `<service>__*` (none unless given). */
  resources?: string[];
  mode?: VirtualServerMode;
  /**
   * Overrides of the tools it serves, keyed by their names on `/mcp` (model/overrides.ts):
   * rename, retitle, redescribe, annotate or hide a tool on this endpoint only.
   */
  overrides?: ToolOverrides;
  /** Shown to clients as the server's instructions, and in `GET /virtual-servers`. */
  description?: string;
}

/** A virtual server as the registry keeps it. */
export interface VirtualServerRecord extends VirtualServerSpec {
  /** `config`: from the config file (change it there); `registered`: through the admin API, kept in the store. */
  source: 'config' | 'registered';
  createdAt: string;
  updatedAt: string;
}

/** The path of a virtual server's MCP endpoint. */
export function virtualServerPath(name: string): string {
  return `/servers/${name}/mcp`;
}

const VIRTUAL_PATH = /^\/servers\/([^/]+)\/mcp$/;

/** The virtual server a request path names (`/servers/support/mcp` -> `support`), or undefined. */
export function virtualServerOf(path: string): string | undefined {
  return VIRTUAL_PATH.exec(path)?.[1];
}
