/** Types of tool-catalog.mjs, for the tests that import it. */
export interface GeneratedTool {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, { type: string }>; required: string[] };
  annotations: Record<string, boolean>;
}
export function generateCatalog(): { service: string; tools: GeneratedTool[] }[];
export const QUERIES: readonly (readonly [query: string, expected: string])[];
