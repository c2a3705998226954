// Types of docs-tables.mjs, for test/docs.test.ts.

export interface EnvVarDoc {
  readonly default: string;
  readonly description: string;
}
export interface ErrorDoc {
  readonly status: number;
  readonly rpc: number;
  readonly summary: string;
}
export interface GatewayDocsSource {
  readonly ENV_VARS: Readonly<Record<string, EnvVarDoc>>;
  readonly GATEWAY_ERRORS: Readonly<Record<string, ErrorDoc>>;
}
export type SectionResult = { ok: true; value: string; start: number; end: number } | { ok: false; message: string };

export function envVarTable(envVars: GatewayDocsSource['ENV_VARS']): string;
export function errorTable(errors: GatewayDocsSource['GATEWAY_ERRORS']): string;
export const GENERATED_SECTIONS: readonly { name: string; file: string; render: (gateway: GatewayDocsSource) => string }[];
export function readSection(text: string, name: string): SectionResult;
export function replaceSection(text: string, name: string, body: string): { ok: true; value: string } | { ok: false; message: string };
