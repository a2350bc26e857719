import type { LogonType } from '../domain/audit';
import type { FindingValue, ObjectType, RuleId, Severity } from '../domain/finding';
import type { FindingStatus } from '../lifecycle';
import type { CoverageTally, MailboxCoverage } from '../rules/coverage';

/**
 * What the store keeps about findings, drift events, scan runs and mailbox configuration. The
 * statuses and event types are the lifecycle's (re-exported here for the readers of the store);
 * remediation and approval add their transitions through FindingRepository.update and record
 * their events with the same schema.
 */
export { ACTIVE_STATUSES, DRIFT_EVENT_TYPES, FINDING_STATUSES, isActiveStatus, type DriftEvent, type DriftEventType, type FindingStatus } from '../lifecycle';

/** Identifies one finding across scans (the parts of findingKey). */
export interface FindingRef {
  ruleId: RuleId;
  objectId: string;
  logonType?: LogonType;
}

export interface FindingException {
  reason: string;
  expires: string;
}

/** A finding as stored: the current state of one drift. */
export interface StoredFinding {
  tenantId: string;
  key: string;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  userPrincipalName: string;
  logonType?: LogonType;
  severity: Severity;
  status: FindingStatus;
  expected: FindingValue;
  actual: FindingValue;
  error?: string;
  /** Start of the current episode (the scan that opened or re-opened it). */
  firstSeen: Date;
  /**
   * Stored only once the finding is closed. For an active finding it is derived from the last
   * completed scan (see HistoryService), which is what lets an unchanged night write nothing.
   */
  lastSeen?: Date;
  closedAt?: Date;
  exception?: FindingException;
  /** How many times the finding has been opened (1 for the first time). */
  episode: number;
  /** Number of drift events recorded for this finding; event ids are `${key}|${seq}`. */
  seq: number;
  /** The seq of the event that opened the current episode; prune keeps events from here on for active findings. */
  episodeStartSeq: number;
  /** Free-form state owned by later layers (remediation attempts, approval id, ...). */
  metadata: Record<string, FindingValue>;
  etag: string;
}

export const SCAN_STATUSES = ['running', 'completed', 'failed', 'interrupted'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

export interface StoredScanRun {
  tenantId: string;
  scanId: string;
  status: ScanStatus;
  startedAt: Date;
  finishedAt?: Date;
  durationMs?: number;
  mailboxes?: number;
  bypassAssociations?: number;
  findingsByRule: Partial<Record<RuleId, number>>;
  /** The tenant's coverage figure (scans recorded before coverage existed have none). */
  coverage?: CoverageTally;
  ruleErrors?: number;
  apiCalls?: number;
  throttledCalls?: number;
  opened?: number;
  resolved?: number;
  gone?: number;
  stillOpen?: number;
  /** Why the scan failed (sanitised). */
  reason?: string;
}

/** A mailbox's audit configuration as recorded when it changed. */
export interface StoredSnapshot {
  tenantId: string;
  objectId: string;
  userPrincipalName: string;
  /** Start of the scan that read this configuration; it is in force from then until the next snapshot. */
  at: Date;
  scanId: string;
  configHash: string;
  configuration: unknown;
  /** Whether the mailbox's reads were recorded while this snapshot was in force (absent on older rows). */
  coverage?: MailboxCoverage;
}
