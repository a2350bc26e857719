/**
 * The finding lifecycle: a pure state machine (no I/O, no clock — time is a parameter). A scan
 * opens, re-opens, excepts and closes findings; remediation and approval move them through their
 * own statuses. Each transition says what it writes and which drift event it implies; the store
 * decides how that is kept.
 */
export { FINDING_STATUSES, ACTIVE_STATUSES, isActiveStatus, type FindingStatus } from './status';
export { DRIFT_EVENT_TYPES, driftEvent, type DriftEvent, type DriftEventType } from './drift-event';
export type { FindingState, TransitionContext } from './finding-state';
export type { FindingUpdate, Transition } from './transition';
export { canonicalJson, detailHashOf, digest } from './detail-hash';
export { planClose, planObservation } from './scan-transitions';
export { planChange, type FindingChange } from './change';
