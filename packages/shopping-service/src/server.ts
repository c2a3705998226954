import { ToolServerFactory, defineTool } from '@meshgate/service-kit';
import { z } from 'zod';

const product = z.object({ id: z.string(), name: z.string(), price: z.number() });

export const shopping = new ToolServerFactory({ name: 'shopping-service', version: '0.1.0' }, [
  defineTool({
    name: 'getProductById',
    description: 'Get product information by ID',
    input: z.object({ id: z.string().regex(/^\d+$/, 'must be digits, e.g. "123"') }),
    output: product,
    handler: ({ id }) => (id === '123' ? { ok: true, value: { id, name: 'Widget', price: 9.99 } } : { ok: false, message: `Product ${id} not found` }),
  }),
]);
