import type { ToolOutcome } from '@meshgate/service-kit';
import { z } from 'zod';
import { users } from './data/users.js';

/** One user as `getUserById` returns it; also the tool's output schema. */
export const userSchema = z.object({
  id: z.string().describe('User id, a string of digits such as "456"'),
  name: z.string().describe('Full name'),
  email: z.email().describe('Contact email address'),
  joinedAt: z.iso.date().describe('Date the account was created, ISO 8601 (YYYY-MM-DD)'),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .describe('ISO 3166-1 alpha-2 country code, e.g. "ES"'),
  plan: z.enum(['free', 'pro', 'team']).describe('Subscription plan'),
});

export type User = z.infer<typeof userSchema>;

// Built once at load: the directory is read-only, every lookup is a map hit.
const byId = new Map(users.map((user) => [user.id, user]));

/** Looks a user up by id; an unknown id is a failure whose message tells the model what ids look like. */
export function findUser(id: string): ToolOutcome<User> {
  const user = byId.get(id);
  if (user === undefined) return { ok: false, message: `User "${id}" not found; ids are strings of digits such as "456"` };
  return { ok: true, value: user };
}
