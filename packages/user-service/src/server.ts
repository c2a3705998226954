import { defineTool, ToolServerFactory } from '@meshgate/service-kit';
import { z } from 'zod';
import { findUser, userSchema } from './catalog.js';

/** The `getUserById` tool: reads the directory, never writes. */
export const getUserById = defineTool({
  name: 'getUserById',
  title: 'Get user by id',
  description:
    'Look up one user account by its id. Returns the name, email, the date the account was created (YYYY-MM-DD), ' +
    'the ISO country code and the subscription plan (free, pro or team). The id is a string of digits, for example ' +
    '{"id": "456"}. An unknown id returns an error result saying the user was not found.',
  input: z.object({
    id: z
      .string({ error: 'must be a string of digits such as "456"' })
      .regex(/^\d{1,12}$/, 'must be a string of 1 to 12 digits such as "456"')
      .describe('User id: a string of digits, e.g. "456"'),
  }),
  output: userSchema,
  handler: ({ id }) => findUser(id),
});

/** Builds the user service's MCP servers (one per session). */
export const userDirectory = new ToolServerFactory({ name: 'user-service', version: '0.1.0' }, [getUserById]);
