import { z } from 'zod';

/** A URL the gateway may call or publish: only http and https, whatever the variable or file field. */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
