import { describe, expect, it } from 'vitest';
import { findUser, userSchema } from './catalog.js';
import { users } from './data/users.js';

describe('user directory data', () => {
  it('holds at least 60 users, each valid against the output schema', () => {
    expect(users.length).toBeGreaterThanOrEqual(60);
    for (const user of users) expect(userSchema.strict().parse(user)).toEqual(user);
  });

  it('has unique digit-string ids, varied rather than 1..n, including the seed\'s "456"', () => {
    const ids = users.map((user) => user.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^\d{1,12}$/);
    expect(ids).toContain('456');
    expect(ids.some((id) => Number(id) > users.length)).toBe(true);
  });

  it('has unique emails on reserved example domains (the data is fictional)', () => {
    const emails = users.map((user) => user.email);
    expect(new Set(emails).size).toBe(emails.length);
    for (const email of emails) expect(email).toMatch(/@example\.(com|org|net)$/);
  });

  it('uses every plan and no join date in the future', () => {
    expect(new Set(users.map((user) => user.plan))).toEqual(new Set(['free', 'pro', 'team']));
    const today = new Date().toISOString().slice(0, 10);
    for (const { joinedAt } of users) expect(joinedAt <= today).toBe(true);
  });
});

describe('findUser', () => {
  it('finds the seed user "456"', () => {
    expect(findUser('456')).toMatchObject({ ok: true, value: { id: '456', name: 'Maria Garcia' } });
  });

  it('reports an unknown id with a message that shows what ids look like', () => {
    expect(findUser('999')).toEqual({ ok: false, message: 'User "999" not found; ids are strings of digits such as "456"' });
  });
});
