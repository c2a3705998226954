import { describeNativeService } from '../../../test/helpers/service-contract.js';

// The compiled service as a real process (build first: `npm test` does).
describeNativeService({
  name: 'user-service',
  entry: 'packages/user-service/dist/main.js',
  tool: 'getUserById',
  knownId: '456',
  knownRecord: { id: '456', name: 'Maria Garcia', email: 'maria.garcia@example.com', joinedAt: '2023-04-12', plan: 'pro' },
  unknownId: '999',
  notFoundMessage: 'User "999" not found; ids are strings of digits such as "456"',
});
