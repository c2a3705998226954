// Types of haproxy.mjs, for test/helpers/haproxy.ts.

export const HAPROXY: string;
export const SERVED_BY: string;
export function haproxyConfig(port: number, statsPort: number, backends: readonly { name: string; port: number }[]): string;
export function haproxyStates(statsPort: number): Promise<Record<string, string>>;
