import { z } from 'zod';
import { selectorProblem } from '../auth/allow-list.js';

/** A URL the gateway may call or publish: only http and https, whatever the variable or file field. */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** One selector of a token's allow-list or a virtual server's selection (auth/allow-list.ts), refused with what is wrong. */
export const selectorInput = z.string().superRefine((entry, ctx) => {
  const problem = selectorProblem(entry);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `selector ${JSON.stringify(entry.slice(0, 80))} ${problem}` });
});
