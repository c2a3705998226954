/**
 * The gateway's own code, loaded only by the commands that need it (`up`, `config check`),
 * so an installed CLI (npm install @meshgate/cli) works without any workspace package and
 * says clearly what is missing when one of those commands is run there.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failed } from './errors.js';

export type GatewayModule = typeof import('@meshgate/gateway');

const CHECKOUT_HINT = 'run it from a Meshgate checkout after `npm install && npm run build` (the workspace packages are not published)';

function isMissing(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown }).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(specifier);
}

/** The gateway package, or a failure saying it is not installed. */
export async function loadGateway(command: string): Promise<GatewayModule> {
  try {
    return await import('@meshgate/gateway');
  } catch (error) {
    if (isMissing(error, '@meshgate/gateway'))
      throw failed(`${command} needs the gateway package @meshgate/gateway, which is not installed here: ${CHECKOUT_HINT}`);
    throw error;
  }
}

/**
 * The file `relative` inside an installed workspace package (`@meshgate/gateway` and
 * `dist/main.js`), resolved the way node resolves imports from here; a failure names the
 * package and how to get it.
 */
export function resolvePackageFile(specifier: string, relative: string, command: string): string {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(specifier));
  } catch (error) {
    if (isMissing(error, specifier) || (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      throw failed(`${command} needs ${specifier}, which is not installed here: ${CHECKOUT_HINT}`);
    }
    throw error;
  }
  // The package's main file is in its dist/; `relative` is taken from the package root.
  const root = dirname(dirname(entry));
  const file = join(root, relative);
  if (!existsSync(file)) throw failed(`${specifier} is installed but not built (${file} is missing): run npm run build`);
  return file;
}
