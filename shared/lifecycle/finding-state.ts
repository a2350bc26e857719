import type { LogonType } from '../domain/audit';
import type { ObjectType, RuleId, Severity } from '../domain/finding';
import type { FindingStatus } from './status';

/**
 * What the lifecycle knows about a finding between transitions: compact, because a scan holds one
 * per finding of the tenant from begin to complete.
 */
export interface FindingState {
  /** findingKey: `ruleId|objectId[|logonType]`. */
  key: string;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  upn: string;
  logonType?: LogonType;
  severity: Severity;
  status: FindingStatus;
  /** Start of the current episode (ISO). */
  firstSeen: string;
  /** How many times the finding has been opened. */
  episode: number;
  /** Drift events so far; the next event is seq + 1. */
  seq: number;
  /** The seq of the event that opened the current episode. */
  episodeStartSeq: number;
  /** Digest of what a re-scan may change without a transition (details, severity, UPN, exception). */
  detailHash: string;
}

/** Who and when, for the transitions a scan makes. */
export interface TransitionContext {
  tenantId: string;
  at: Date;
  actor: string;
  scanId?: string;
}
