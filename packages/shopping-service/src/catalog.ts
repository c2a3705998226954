import type { ToolOutcome } from '@meshgate/service-kit';
import { z } from 'zod';
import { products } from './data/products.js';

/** One product as `getProductById` returns it; also the tool's output schema. */
export const productSchema = z.object({
  id: z.string().describe('Product id, a string of digits such as "123"'),
  name: z.string().describe('Product name as shown to shoppers'),
  description: z.string().describe('One or two sentences about the product'),
  price: z.number().nonnegative().describe('Unit price in `currency`, with at most two decimals'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .describe('ISO 4217 currency code of `price`, e.g. "USD" or "EUR"'),
  stock: z.number().int().min(0).describe('Units in stock; 0 means currently sold out'),
  category: z.string().describe('Catalog category, e.g. "Audio" or "Home & Kitchen"'),
  sku: z.string().describe('Stock keeping unit code, unique per product'),
});

export type Product = z.infer<typeof productSchema>;

// Built once at load: the catalog is read-only, every lookup is a map hit.
const byId = new Map(products.map((product) => [product.id, product]));

/** Looks a product up by id; an unknown id is a failure whose message tells the model what ids look like. */
export function findProduct(id: string): ToolOutcome<Product> {
  const product = byId.get(id);
  if (product === undefined) return { ok: false, message: `Product "${id}" not found; ids are strings of digits such as "123"` };
  return { ok: true, value: product };
}
