import { describe, expect, it } from 'vitest';
import { findProduct, productSchema } from './catalog.js';
import { products } from './data/products.js';

describe('product catalog data', () => {
  it('holds at least 60 products, each valid against the output schema', () => {
    expect(products.length).toBeGreaterThanOrEqual(60);
    for (const product of products) expect(productSchema.strict().parse(product)).toEqual(product);
  });

  it('has unique digit-string ids, varied rather than 1..n, including the seed\'s "123"', () => {
    const ids = products.map((product) => product.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^\d{1,12}$/);
    expect(ids).toContain('123');
    expect(ids.some((id) => Number(id) > products.length)).toBe(true);
  });

  it('has unique SKUs', () => {
    const skus = products.map((product) => product.sku);
    expect(new Set(skus).size).toBe(skus.length);
  });

  it('prices have at most two decimals; currencies are mostly USD with some EUR', () => {
    for (const { price } of products) expect(Math.round(price * 100) / 100).toBe(price);
    const usd = products.filter((product) => product.currency === 'USD').length;
    const eur = products.filter((product) => product.currency === 'EUR').length;
    expect(usd).toBeGreaterThan(products.length / 2);
    expect(eur).toBeGreaterThan(0);
    expect(usd + eur).toBe(products.length);
  });
});

describe('findProduct', () => {
  it('finds the seed product "123", a wireless headphone', () => {
    const outcome = findProduct('123');
    expect(outcome.ok && outcome.value.name).toMatch(/Wireless Headphones/);
  });

  it('reports an unknown id with a message that shows what ids look like', () => {
    expect(findProduct('999')).toEqual({ ok: false, message: 'Product "999" not found; ids are strings of digits such as "123"' });
  });

  it('does not treat a zero-padded id as the same product', () => {
    expect(findProduct('0123').ok).toBe(false);
  });
});
