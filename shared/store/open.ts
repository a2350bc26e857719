/**
 * The one place functions and the command line get a store from: settings in, repositories out.
 * Kept apart from store.ts so callers that only open a store do not read its internals.
 */
export { openStore, openStoreFromSettings, type AuditStore, type StoreOptions } from './store';
export type { StoreConnection } from './tables';
