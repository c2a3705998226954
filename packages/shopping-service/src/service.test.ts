import { describeNativeService } from '../../../test/helpers/service-contract.js';

// The compiled service as a real process (build first: `npm test` does).
describeNativeService({
  name: 'shopping-service',
  entry: 'packages/shopping-service/dist/main.js',
  tool: 'getProductById',
  knownId: '123',
  knownRecord: { id: '123', name: 'Aurora ANC Wireless Headphones', price: 199.99, currency: 'USD', category: 'Audio' },
  unknownId: '999',
  notFoundMessage: 'Product "999" not found; ids are strings of digits such as "123"',
});
