import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built entry point (`npm test` builds first): what `npm start` and the image run.
const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

function start(env: Record<string, string>) {
  const { LOG_LEVEL: _level, LOG_FORMAT: _format, ...inherited } = process.env;
  return spawnSync(process.execPath, [main], { env: { ...inherited, ...env }, encoding: 'utf8', timeout: 20_000 });
}

describe('gateway start-up with bad logging settings', () => {
  it('refuses an unknown LOG_LEVEL in one line, without a stack trace, and exits 1', () => {
    const run = start({ LOG_LEVEL: 'verbose' });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('invalid configuration: env.LOG_LEVEL: "verbose" is not a log level (one of trace, debug, info, warn, error, fatal, silent)\n');
  });

  it('refuses an unknown LOG_FORMAT the same way', () => {
    const run = start({ LOG_FORMAT: 'xml' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('invalid configuration: env.LOG_FORMAT: "xml" is not a log format (one of pretty, json)\n');
  });
});
