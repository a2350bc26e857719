import type { ScanRecorder } from '../domain/ports';

/** The recorder of a read-only scan (`--no-store`): remembers nothing, changes nothing. */
export const readOnlyRecorder: ScanRecorder = {
  begin: async () => ({ mailItemsAccessedRefused: new Set() }),
  observe: async () => undefined,
  complete: async () => ({ opened: [], resolved: [], gone: [], stillOpen: 0 }),
  fail: async () => undefined,
};
