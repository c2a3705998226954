import { DEFAULT_MAX_BODY_BYTES } from '@meshgate/service-kit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../upstream/limits.js';
import { ENV_SETTINGS, ENV_VARS, envSchema } from './env.js';
import { ConfigError, loadConfig } from './load.js';

describe('ENV_SETTINGS', () => {
  it('documents each variable with the default the schema applies', () => {
    const defaults = envSchema.parse({}) as Record<string, unknown>;
    for (const [name, doc] of Object.entries(ENV_VARS)) {
      const value = defaults[name];
      // A defaulted setting shows its value (maybe with a note); an optional one says what unset means.
      if (value === undefined) expect(doc.default, name).toMatch(/^\(.+\)$|^[a-z:=,]+$/);
      else expect(doc.default.startsWith(String(value)), name).toBe(true);
      expect(doc.description.length, name).toBeGreaterThan(10);
    }
    expect(Object.keys(ENV_VARS)).toEqual(Object.keys(ENV_SETTINGS));
  });

  it("takes the upstream and body limits' defaults from the constants the code uses", () => {
    const config = loadConfig({});
    const { retryMinMs: _notASetting, ...configurable } = DEFAULT_LIMITS;
    expect(config.limits).toEqual(configurable);
    expect(config.maxBodyBytes).toBe(DEFAULT_MAX_BODY_BYTES);
  });

  it('reads MESHGATE_MAX_BODY_BYTES', () => {
    expect(loadConfig({ MESHGATE_MAX_BODY_BYTES: '65536' }).maxBodyBytes).toBe(65_536);
    expect(() => loadConfig({ MESHGATE_MAX_BODY_BYTES: '10' })).toThrow(/env\.MESHGATE_MAX_BODY_BYTES/);
  });

  it('validates LOG_LEVEL and LOG_FORMAT like the services do', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(
      'invalid configuration: env.LOG_LEVEL: "verbose" is not a log level (one of trace, debug, info, warn, error, fatal, silent)',
    );
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/env\.LOG_FORMAT: "xml" is not a log format \(one of pretty, json\)/);
    expect(() => loadConfig({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' })).not.toThrow();
  });
});
