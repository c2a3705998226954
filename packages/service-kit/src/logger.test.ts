import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, LOG_LEVELS, loggingFromEnv, renameClashingFields } from './logger.js';

/** A logger writing JSON lines into an array, as a log shipper would read them. */
function captured(name = 'mcp-gateway') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  return { logger: createLogger({ name, level: 'trace', format: 'json', destination }), lines };
}

/**
 * Keys of any object in a JSON text that occur twice in it. JSON.parse silently keeps the
 * last one, so a duplicate can only be seen in the raw text.
 */
function duplicateKeys(text: string): string[] {
  const duplicates: string[] = [];
  const open: { keys: Set<string> | undefined; expectingKey: boolean }[] = [];
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    const top = open[open.length - 1];
    if (char === '{' || char === '[') open.push({ keys: char === '{' ? new Set() : undefined, expectingKey: char === '{' });
    else if (char === '}' || char === ']') open.pop();
    else if (char === ',' && top !== undefined) top.expectingKey = top.keys !== undefined;
    else if (char === ':' && top !== undefined) top.expectingKey = false;
    else if (char === '"') {
      let end = at + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (top?.keys !== undefined && top.expectingKey) {
        const key = JSON.parse(text.slice(at, end + 1)) as string;
        if (top.keys.has(key)) duplicates.push(key);
        top.keys.add(key);
      }
      at = end;
    }
  }
  return duplicates;
}

describe('duplicateKeys (the test helper)', () => {
  it('sees a repeated key that JSON.parse would hide', () => {
    expect(duplicateKeys('{"a":1,"b":{"a":2},"a":3}')).toEqual(['a']);
    expect(duplicateKeys('{"a":"x\\",\\"a\\":","b":[{"a":1},{"a":2}]}')).toEqual([]);
  });
});

describe('createLogger JSON lines', () => {
  it('names the process under `name` and leaves `service` to the service a line is about', () => {
    const { logger, lines } = captured();
    logger.info({ service: 'x' }, 'service "x" is up');
    const [line] = lines;
    expect(line).toBeDefined();
    expect(JSON.parse(line ?? '')).toMatchObject({ name: 'mcp-gateway', service: 'x', msg: 'service "x" is up' });
    expect(duplicateKeys(line ?? '')).toEqual([]);
  });

  it('never writes a key twice, whatever a call site or a child logs', () => {
    const { logger, lines } = captured();
    logger.warn({ name: 'other', level: 'custom', time: 1, pid: 2, hostname: 'h', msg: 'field' }, 'message');
    logger.child({ session: 's1' }).info({ session: 's2', service: 'x' }, 'child line');
    logger.info({ msg: 'message as a field' });
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(duplicateKeys(line)).toEqual([]);
    const [clash, child, alone] = lines.map((line) => JSON.parse(line));
    expect(clash).toMatchObject({ name: 'mcp-gateway', name_: 'other', level: 40, level_: 'custom', msg: 'message', msg_: 'field', hostname_: 'h' });
    expect(child).toMatchObject({ name: 'mcp-gateway', session: 's1', session_: 's2', service: 'x' });
    expect(alone).toMatchObject({ msg: 'message as a field' });
  });

  it('still redacts secrets', () => {
    const { logger, lines } = captured();
    logger.info({ headers: { authorization: 'Bearer s3cret' }, token: 's3cret' }, 'request');
    expect(lines.join('\n')).not.toContain('s3cret');
  });
});

describe('renameClashingFields', () => {
  it('returns the same object when nothing clashes, and never loses a field', () => {
    const fields = { service: 'x' };
    expect(renameClashingFields(fields, new Set(['name']))).toBe(fields);
    expect(renameClashingFields({ name: 'a', name_: 'b' }, new Set(['name']))).toEqual({ name_: 'b', name__: 'a' });
  });
});

describe('loggingFromEnv', () => {
  it('defaults to info, pretty on a TTY and JSON otherwise; empty counts as unset', () => {
    expect(loggingFromEnv({}, true)).toEqual({ ok: true, value: { level: 'info', format: 'pretty' } });
    expect(loggingFromEnv({ LOG_LEVEL: '', LOG_FORMAT: '' }, false)).toEqual({ ok: true, value: { level: 'info', format: 'json' } });
  });

  it('takes LOG_FORMAT over the TTY guess, so `LOG_FORMAT=json npm start` gives JSON', () => {
    expect(loggingFromEnv({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }, true)).toEqual({ ok: true, value: { level: 'debug', format: 'json' } });
    expect(loggingFromEnv({ LOG_FORMAT: 'pretty' }, false)).toEqual({ ok: true, value: { level: 'info', format: 'pretty' } });
  });

  it.each(LOG_LEVELS)('accepts the level %s', (level) => {
    expect(loggingFromEnv({ LOG_LEVEL: level }, false)).toMatchObject({ ok: true, value: { level } });
  });

  it('refuses an unknown level or format in one readable line listing the choices', () => {
    expect(loggingFromEnv({ LOG_LEVEL: 'verbose' }, false)).toEqual({
      ok: false,
      message: 'invalid configuration: env.LOG_LEVEL: "verbose" is not a log level (one of trace, debug, info, warn, error, fatal, silent)',
    });
    const format = loggingFromEnv({ LOG_FORMAT: 'xml' }, false);
    expect(format).toEqual({ ok: false, message: 'invalid configuration: env.LOG_FORMAT: "xml" is not a log format (one of pretty, json)' });
  });
});

// The built kit (`npm test` builds first), as a service's main.ts uses it. The factory is
// never reached: the logging settings are checked before anything else.
const kit = new URL('../dist/index.js', import.meta.url).href;
const script = `import { runMcpService } from ${JSON.stringify(kit)}; await runMcpService({ name: 'demo-service', defaultPort: 0, factory: undefined });`;

function run(env: Record<string, string>) {
  const { LOG_LEVEL: _level, LOG_FORMAT: _format, ...inherited } = process.env;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...inherited, ...env }, encoding: 'utf8', timeout: 20_000 });
}

describe('runMcpService with bad logging settings', () => {
  it('refuses an unknown LOG_LEVEL in one line, without a stack trace, and exits 1', () => {
    const result = run({ LOG_LEVEL: 'verbose' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('invalid configuration: env.LOG_LEVEL: "verbose" is not a log level (one of trace, debug, info, warn, error, fatal, silent)\n');
  });
});
