import { planChange, toStoredFinding, type FindingChange } from '../store/findings';
import type { FindingRef, StoredFinding } from '../store/model';
import type { AuditStore } from '../store/open';

/**
 * FindingRepository.update without reading the finding back afterwards: the remediation workers
 * change a finding two or three times per fix and never need the result, and against Azurite
 * every request counts. Same ETag-guarded read–plan–write, same outbox for the drift event.
 */
export async function changeFinding(
  store: AuditStore,
  tenantId: string,
  ref: FindingRef,
  mutate: (current: StoredFinding) => FindingChange | undefined,
  clock: () => Date,
): Promise<void> {
  await store.findings.apply(tenantId, ref, (state, entity) => {
    if (!state || !entity) return undefined;
    const current = toStoredFinding(entity);
    const change = mutate(current);
    return change ? planChange(state, current, change, tenantId, clock()) : undefined;
  });
}
