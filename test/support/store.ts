import type { ObservedObject, ScanChanges } from '../../shared/domain/ports';
import { openStore, type AuditStore, type StoreOptions } from '../../shared/store/open';
import { TableScanRecorder, type TableScanRecorderOptions } from '../../shared/store/recorder';
import type { StoreConnection } from '../../shared/store/tables';
import { runAt, totalsFor } from './fixtures/scan';
import { testStorageConnectionString, uniqueName } from './storage';

/** A store of its own (fresh table prefix) in the test run's Azurite. */
export function newStore(prefix = uniqueName('t'), extra: Partial<StoreConnection> = {}, options: StoreOptions = {}): AuditStore {
  return openStore({ connectionString: testStorageConnectionString(), tablePrefix: prefix, ...extra }, options);
}

/** Records one night: begins a scan at `at`, observes every object, completes a minute later. */
export async function scan(
  store: AuditStore,
  objects: ObservedObject[],
  at: Date,
  options: TableScanRecorderOptions & { tenantId?: string } = {},
): Promise<ScanChanges> {
  const recorder = new TableScanRecorder(store, options);
  await recorder.begin(runAt(at, options.tenantId));
  for (const object of objects) await recorder.observe(object);
  return recorder.complete(totalsFor(objects, new Date(at.getTime() + 60_000)));
}
