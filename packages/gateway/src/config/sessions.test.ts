import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

describe('session settings', () => {
  it('default to a 30-minute idle timeout, 10000 sessions, 1000 per identity, 100 events and 256 KiB of replay per stream, 64 MiB in all, ids sealed for a day once keys are set', () => {
    expect(loadConfig({}).sessions).toEqual({
      idleMs: 1_800_000,
      maxSessions: 10_000,
      maxPerIdentity: 1_000,
      replayEvents: 100,
      replayBytes: 262_144,
      replayTotalBytes: 67_108_864,
      maxAgeMs: 86_400_000,
    });
    expect(loadConfig({}).sessionKeys).toBeUndefined();
  });

  it('read the session keys, newest first, base64 or base64url', () => {
    const newest = Buffer.alloc(32, 0xfb);
    const older = Buffer.alloc(32, 3);
    const config = loadConfig({ MESHGATE_SESSION_KEYS: `${newest.toString('base64url')},${older.toString('base64')}`, MESHGATE_SESSION_MAX_AGE_MS: '3600000' });
    expect(config.sessionKeys).toEqual([newest, older]);
    expect(config.sessions.maxAgeMs).toBe(3_600_000);
  });

  it('read the replay buffer bounds, 0 included', () => {
    const env = { MESHGATE_REPLAY_BUFFER_EVENTS: '0', MESHGATE_REPLAY_BUFFER_BYTES: '4096', MESHGATE_REPLAY_BUFFER_TOTAL_BYTES: '1048576' };
    expect(loadConfig(env).sessions).toMatchObject({ replayEvents: 0, replayBytes: 4096, replayTotalBytes: 1_048_576 });
  });

  it('read the three variables', () => {
    const config = loadConfig({ MESHGATE_SESSION_IDLE_MS: '60000', MESHGATE_MAX_SESSIONS: '50', MESHGATE_MAX_SESSIONS_PER_IDENTITY: '50' });
    expect(config.sessions).toMatchObject({ idleMs: 60_000, maxSessions: 50, maxPerIdentity: 50 });
  });

  it.each([
    ['a zero idle timeout', { MESHGATE_SESSION_IDLE_MS: '0' }, /env\.MESHGATE_SESSION_IDLE_MS: must be a positive integer/],
    ['a fraction', { MESHGATE_MAX_SESSIONS: '1.5' }, /env\.MESHGATE_MAX_SESSIONS: must be a positive integer/],
    ['a word', { MESHGATE_MAX_SESSIONS_PER_IDENTITY: 'many' }, /env\.MESHGATE_MAX_SESSIONS_PER_IDENTITY: must be a positive integer/],
    [
      'more per identity than in all',
      { MESHGATE_MAX_SESSIONS: '100', MESHGATE_MAX_SESSIONS_PER_IDENTITY: '101' },
      /env\.MESHGATE_MAX_SESSIONS_PER_IDENTITY: 101 is more than MESHGATE_MAX_SESSIONS \(100\)/,
    ],
    [
      'a replay buffer past the backlog bound',
      { MESHGATE_REPLAY_BUFFER_BYTES: '4194305' },
      /env\.MESHGATE_REPLAY_BUFFER_BYTES: must be a whole number from 0 to 4194304/,
    ],
    ['a negative replay count', { MESHGATE_REPLAY_BUFFER_EVENTS: '-1' }, /env\.MESHGATE_REPLAY_BUFFER_EVENTS: must be a whole number, 0 or more/],
    [
      'a session key of 16 bytes',
      { MESHGATE_SESSION_KEYS: Buffer.alloc(16).toString('base64') },
      /env\.MESHGATE_SESSION_KEYS: key 1 of 1 decodes to 16 bytes, not 32/,
    ],
    ['a session key that is not base64', { MESHGATE_SESSION_KEYS: 'secret key' }, /env\.MESHGATE_SESSION_KEYS: key 1 of 1 is not base64/],
    ['a lowered total under the default per identity', { MESHGATE_MAX_SESSIONS: '10' }, /1000 is more than MESHGATE_MAX_SESSIONS \(10\)/],
  ])('refuses %s, naming the variable', (_, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
