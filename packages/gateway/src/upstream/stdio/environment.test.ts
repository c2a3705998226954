import { describe, expect, it } from 'vitest';
import { childEnvironment } from './environment.js';

describe('childEnvironment', () => {
  const gateway = { PATH: '/usr/bin', HOME: '/home/gw', MCP_BEARER_TOKEN: 'secret', MESHGATE_UPSTREAM_TOKEN: 'secret2', AWS_SECRET_ACCESS_KEY: 'x' };

  it('passes only PATH, HOME and the configured variables, none of the gateway’s own', () => {
    expect(childEnvironment({ API_KEY: 'k' }, gateway)).toStrictEqual({ PATH: '/usr/bin', HOME: '/home/gw', API_KEY: 'k' });
  });

  it('lets the configuration set PATH and HOME, and leaves out what the gateway lacks', () => {
    expect(childEnvironment({ PATH: '/opt/bin' }, { HOME: '/h' })).toStrictEqual({ HOME: '/h', PATH: '/opt/bin' });
  });

  it('treats a __proto__ variable as data, not as a prototype', () => {
    const env = childEnvironment(JSON.parse('{"__proto__":"x"}') as Record<string, string>, {});
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(Object.keys(env)).toEqual(['__proto__']);
  });
});
