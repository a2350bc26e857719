/** The store's entry points: settings or a connection in, repositories out. */
export { openStore, openStoreFromSettings, type AuditStore, type StoreOptions } from './store';
export type { StoreConnection } from './tables';
export { TableScanRecorder } from './recorder';
