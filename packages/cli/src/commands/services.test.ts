import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../errors.js';
import { credentialOf } from './services.js';

describe('credentialOf', () => {
  it('is undefined without flags (the gateway sends its own token)', () => {
    expect(credentialOf({})).toBeUndefined();
  });
  it('turns --bearer-env into the bearerEnv form, and takes --credential as JSON', () => {
    expect(credentialOf({ 'bearer-env': 'SEARCH_TOKEN' })).toEqual({ bearerEnv: 'SEARCH_TOKEN' });
    expect(credentialOf({ credential: '{"header":"X-Api-Key","valueEnv":"KEY"}' })).toEqual({ header: 'X-Api-Key', valueEnv: 'KEY' });
  });
  it('refuses both at once, and JSON that does not parse, as usage errors', () => {
    for (const values of [{ 'bearer-env': 'A', credential: '{}' }, { credential: '{bearer' }]) {
      try {
        credentialOf(values);
        throw new Error('expected a usage error');
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect((error as CliError).exitCode).toBe(EXIT.usage);
      }
    }
  });
});
