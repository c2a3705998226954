import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Context, print } from '../context.js';
import { failed, usageError } from '../errors.js';
import { loadGateway } from '../gateway.js';
import { renderFields, renderTable } from '../table.js';
import { USAGE } from './specs.js';

/**
 * `meshgate config check [file]`: runs the gateway's own config loader on the environment
 * and the file (as MESHGATE_CONFIG), as the gateway would at start-up, and prints what it
 * would run with, or what is wrong. Never prints a secret: tokens by name only.
 */
export async function config(context: Pick<Context, 'io' | 'json' | 'env'>, positionals: string[]): Promise<void> {
  const [action, file, ...rest] = positionals;
  if (action !== 'check')
    throw usageError(`${action === undefined ? 'missing' : `unknown config command ${JSON.stringify(action)}; expected`} check\n\n${USAGE.config}`);
  if (rest.length > 0) throw usageError(`unexpected ${rest.join(' ')}\n\n${USAGE.config}`);
  const path = file === undefined ? undefined : resolve(file);
  if (path !== undefined && !existsSync(path)) throw failed(`${file} does not exist`);
  const gateway = await loadGateway('config check');
  const env = { ...context.env, ...(path === undefined ? {} : { MESHGATE_CONFIG: path }) };
  let loaded: ReturnType<typeof gateway.loadConfig>;
  try {
    loaded = gateway.loadConfig(env);
  } catch (error) {
    const what = path ?? env['MESHGATE_CONFIG'] ?? 'the environment';
    if (error instanceof gateway.ConfigError) throw failed(`${what}: ${error.message}`);
    throw failed(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const summary = {
    ok: true,
    file: path ?? env['MESHGATE_CONFIG'] ?? null,
    listen: `${loaded.host}:${loaded.port}`,
    dbPath: loaded.dbPath,
    services: loaded.services.map((service) => ({ name: service.name, url: service.url })),
    tokens: loaded.auth.tokens.map((token) => ({ name: token.name, roles: [...token.roles] })),
    jwt: loaded.auth.jwt === undefined ? null : { issuer: loaded.auth.jwt.issuer },
  };
  print(context as Context, summary, () => {
    const head = renderFields([
      ['Config', `OK${summary.file === null ? ' (environment only)' : ` (${summary.file})`}`],
      ['Listen', summary.listen],
      ['Database', summary.dbPath],
      ['Tokens', summary.tokens.map((token) => `${token.name} (${token.roles.join('+')})`).join(', ') || '(none)'],
      ['JWT', summary.jwt === null ? 'off' : `issuer ${summary.jwt.issuer}`],
    ]);
    const services = renderTable(
      summary.services,
      [
        { header: 'SERVICE', value: (s) => s.name },
        { header: 'URL', value: (s) => s.url },
      ],
      '(no configured services)',
    );
    return `${head}\n${services}`;
  });
}
