import { describeRegistryStore } from '../../../../test/helpers/store-contract.js';
import { MemoryStore } from './memory-store.js';

describeRegistryStore('memory', {
  persists: false,
  async open() {
    const store = new MemoryStore();
    return { store, another: async () => store, cleanup: () => store.close() };
  },
});
