/**
 * Federated names. A tool keeps its upstream name when no earlier service owns it;
 * otherwise it is exposed as `<service>__<tool>`. Every tool also answers to its
 * qualified form. Service names match SERVICE_NAME_PATTERN, which has no underscore,
 * so the first `__` in a qualified name always ends the service part.
 */

export const SERVICE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const NAMESPACE_SEPARATOR = '__';

export function isValidServiceName(name: string): boolean {
  return SERVICE_NAME_PATTERN.test(name);
}

/** `shopping-service` + `getProductById` -> `shopping-service__getProductById`. */
export function qualify(service: string, upstreamName: string): string {
  return `${service}${NAMESPACE_SEPARATOR}${upstreamName}`;
}

/** The reverse of `qualify`, or undefined when the name is not qualified by a valid service name. */
export function unqualify(name: string): { service: string; upstreamName: string } | undefined {
  const at = name.indexOf(NAMESPACE_SEPARATOR);
  if (at <= 0) return undefined;
  const service = name.slice(0, at);
  const upstreamName = name.slice(at + NAMESPACE_SEPARATOR.length);
  if (!isValidServiceName(service) || upstreamName === '') return undefined;
  return { service, upstreamName };
}
