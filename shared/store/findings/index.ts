import { planChange as planLifecycleChange, type FindingChange, type Transition } from '../../lifecycle';
import type { StoredFinding } from '../model';
import type { FindingRow } from './entity';

/**
 * Table `findings`: entity mapping (entity.ts), the outbox of drift events (outbox.ts) and the
 * repository (repository.ts). The transitions themselves are the lifecycle's (shared/lifecycle).
 */
export { findingLocation, parseFindingKey, toStoredFinding, type FindingEntity, type FindingPatch, type FindingRow } from './entity';
export { findingWrite, FindingOutbox, type FindingWrite } from './outbox';
export { FindingRepository, type CommitItem, type FindingFilter, type Planner } from './repository';
export type { FindingChange } from '../../lifecycle';

/**
 * @deprecated Use `FindingRepository.change` (the same read, plan, ETag write and outbox). Kept for
 * callers that run a FindingChange through `apply` themselves; `_current` is the row as a
 * StoredFinding, which the lifecycle does not need.
 */
export function planChange(row: FindingRow, _current: StoredFinding, change: FindingChange, tenantId: string, now: Date): Transition {
  return planLifecycleChange(row, change, tenantId, now);
}
