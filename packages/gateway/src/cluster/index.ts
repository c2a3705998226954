export { MemoryBusHub, MemorySessionStateStore } from './memory.js';
export { BUS_CHANNEL, INLINE_PAYLOAD_BYTES, PostgresMessageBus } from './postgres-bus.js';
export { migrateCluster, PostgresSessionStateStore } from './postgres-session-state.js';
export type { BusAddress, BusHandler, BusMessage, MessageBus, SessionLookup, SessionState, SessionStateStore, SessionSubscription } from './types.js';
export { MAX_BUS_BODY_BYTES } from './types.js';
