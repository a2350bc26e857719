import type { PolicyException } from '../config/policy';
import type { Finding, FindingValue } from '../domain/finding';
import type { DriftEvent } from './drift-event';
import type { FindingState } from './finding-state';
import type { FindingStatus } from './status';

/**
 * What a transition writes about the finding besides its state, in the domain's terms; the store
 * decides how each part is kept. Absent parts are left as they are.
 */
export interface FindingUpdate {
  updatedAt: Date;
  /** The finding as a scan saw it, with the exception that covers it: its details are rewritten. */
  observed?: { finding: Finding; exception?: PolicyException; detailHash: string };
  status?: FindingStatus;
  seq?: number;
  /** A new episode begins: the finding is no longer closed (closedAt and lastSeen are cleared). */
  episode?: { number: number; firstSeen: Date; startSeq: number };
  /** The episode ends: closed at `at`, last seen (by a completed scan) at `lastSeen`. */
  closed?: { at: Date; lastSeen: Date };
  /** Replaces the metadata later layers keep on the finding. */
  metadata?: Record<string, FindingValue>;
}

/** A planned change of one finding; `next` is its state once written. */
export interface Transition {
  /** Nothing was recorded about the finding before: this is its first sight. */
  create: boolean;
  update: FindingUpdate;
  /** The drift event the change implies; absent when nothing started or ended. */
  event?: DriftEvent;
  next: FindingState;
}
