import type { FindingValue } from '../domain/finding';
import { driftEvent, type DriftEvent, type DriftEventType } from './drift-event';
import type { FindingState } from './finding-state';
import type { FindingUpdate, Transition } from './transition';
import { isActiveStatus } from './status';

/** What remediation or approval asks of a finding: a status, its metadata, and the event that says why. */
export interface FindingChange {
  status?: FindingState['status'];
  /** Replaces the finding's metadata (read it from the stored finding's `metadata` to add to it). */
  metadata?: Record<string, FindingValue>;
  event?: { type: DriftEventType; actor: string; reason?: string; details?: Record<string, unknown>; at?: Date; scanId?: string };
}

/**
 * The transition a FindingChange makes. Moving a closed finding to an active status starts a new
 * episode; moving an active one to a closed status ends it (closed and last seen at the event's
 * time). A change without an event writes no history.
 */
export function planChange(state: FindingState, change: FindingChange, tenantId: string, now: Date): Transition {
  const at = change.event?.at ?? now;
  const status = change.status ?? state.status;
  const reopening = !isActiveStatus(state.status) && isActiveStatus(status);
  const closing = isActiveStatus(state.status) && !isActiveStatus(status);
  const seq = change.event ? state.seq + 1 : state.seq;
  const next: FindingState = {
    ...state,
    status,
    seq,
    ...(reopening ? { episode: state.episode + 1, firstSeen: at.toISOString(), episodeStartSeq: seq } : {}),
  };
  const update: FindingUpdate = {
    updatedAt: now,
    status,
    ...(change.metadata ? { metadata: change.metadata } : {}),
    ...(closing ? { closed: { at, lastSeen: at } } : {}),
    ...(reopening ? { episode: { number: next.episode, firstSeen: at, startSeq: seq } } : {}),
  };
  let event: DriftEvent | undefined;
  if (change.event) {
    const { type, actor, reason, details, scanId } = change.event;
    event = driftEvent(next, seq, type, { tenantId, at, actor, ...(scanId ? { scanId } : {}) }, { reason, details });
    update.seq = seq;
  }
  return { create: false, update, ...(event ? { event } : {}), next };
}
