import { defineTool, ToolServerFactory } from '@meshgate/service-kit';
import { z } from 'zod';
import { findProduct, productSchema } from './catalog.js';

/** The `getProductById` tool: reads the catalog, never writes. */
export const getProductById = defineTool({
  name: 'getProductById',
  title: 'Get product by id',
  description:
    'Look up one product in the shopping catalog by its id. Returns the product name, description, price with its ' +
    'ISO currency code, units in stock, category and SKU. The id is a string of digits, for example {"id": "123"}. ' +
    'An unknown id returns an error result saying the product was not found.',
  input: z.object({
    id: z
      .string({ error: 'must be a string of digits such as "123"' })
      .regex(/^\d{1,12}$/, 'must be a string of 1 to 12 digits such as "123"')
      .describe('Product id: a string of digits, e.g. "123"'),
  }),
  output: productSchema,
  handler: ({ id }) => findProduct(id),
});

/** Builds the shopping service's MCP servers (one per session). */
export const shopping = new ToolServerFactory({ name: 'shopping-service', version: '0.1.0' }, [getProductById]);
