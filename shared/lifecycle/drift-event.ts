import type { LogonType } from '../domain/audit';
import type { ObjectType, RuleId, Severity } from '../domain/finding';
import type { FindingState, TransitionContext } from './finding-state';

export const DRIFT_EVENT_TYPES = [
  'detected',
  'excepted',
  'resolved',
  'gone',
  'approved',
  'rejected',
  'remediated',
  'verified',
  'failed',
  'blocked',
] as const;
export type DriftEventType = (typeof DRIFT_EVENT_TYPES)[number];

/** One entry of the append-only drift history. */
export interface DriftEvent {
  tenantId: string;
  /** `${findingKey}|${seq}`: deterministic, so re-recording the same transition overwrites instead of duplicating. */
  eventId: string;
  seq: number;
  type: DriftEventType;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  userPrincipalName: string;
  logonType?: LogonType;
  severity: Severity;
  at: Date;
  /** Who caused it: `scan:<scanId>`, an approver's UPN, `remediation`, ... */
  actor: string;
  reason?: string;
  details: Record<string, unknown>;
  scanId?: string;
}

/** The event a transition implies; its seq is the finding's seq once the transition is written. */
export function driftEvent(
  state: FindingState,
  seq: number,
  type: DriftEventType,
  ctx: TransitionContext,
  extra: { reason?: string | undefined; details?: Record<string, unknown> | undefined },
): DriftEvent {
  return {
    tenantId: ctx.tenantId,
    eventId: `${state.key}|${seq}`,
    seq,
    type,
    ruleId: state.ruleId,
    objectType: state.objectType,
    objectId: state.objectId,
    userPrincipalName: state.upn,
    ...(state.logonType ? { logonType: state.logonType } : {}),
    severity: state.severity,
    at: ctx.at,
    actor: ctx.actor,
    ...(extra.reason ? { reason: extra.reason } : {}),
    details: extra.details ?? {},
    ...(ctx.scanId ? { scanId: ctx.scanId } : {}),
  };
}
