import type { AuditPolicy } from '../config/policy';
import type { Settings } from '../config/settings';
import type { Logger } from '../logging';
import type { ScanRecorder } from '../domain/ports';
import { TableScanRecorder } from './recorder';
import { openStoreFromSettings } from './store';

/**
 * The one place functions and the command line get storage from: settings in, repositories or a
 * scan recorder out.
 */
export { openStore, openStoreFromSettings, type AuditStore, type StoreOptions } from './store';
export type { StoreConnection } from './tables';
export { TableScanRecorder } from './recorder';

/**
 * The recorder a storing scan uses (EnvironmentOptions.openRecorder): the tenant's tables in the
 * account AzureWebJobsStorage names. Storage is not contacted here; begin fails fast if it cannot be.
 */
export async function openTableRecorder(settings: Settings, _policy: AuditPolicy, logger: Logger): Promise<ScanRecorder> {
  return new TableScanRecorder(openStoreFromSettings(settings, {}, { logger }), { logger });
}
