import type { LogonType } from '../domain/audit';
import type { FindingValue, ObjectType, RuleId, Severity } from '../domain/finding';
import type { CoverageTally } from '../rules/coverage';
import type { DriftEvent, DriftEventType, FindingException, FindingStatus, ScanStatus, StoredFinding, StoredScanRun } from '../store/model';
import { isActiveStatus } from '../store/model';

/**
 * What the history queries return, as people and programs read it: plain JSON with ISO dates, one
 * mapper per stored record (findings, drift events, scan runs).
 */
export interface FindingView {
  key: string;
  ruleId: RuleId;
  severity: Severity;
  status: FindingStatus;
  objectType: ObjectType;
  objectId: string;
  userPrincipalName: string;
  logonType?: LogonType;
  expected: FindingValue;
  actual: FindingValue;
  error?: string;
  firstSeen: string;
  /** For an open finding: the start of the last completed scan (which saw it), or firstSeen if later. */
  lastSeen: string;
  closedAt?: string;
  exception?: FindingException;
  episode: number;
}

export interface DriftEventView {
  eventId: string;
  type: DriftEventType;
  at: string;
  ruleId: RuleId;
  severity: Severity;
  objectType: ObjectType;
  objectId: string;
  userPrincipalName: string;
  logonType?: LogonType;
  actor: string;
  reason?: string;
  details: Record<string, unknown>;
  scanId?: string;
}

export interface ScanView {
  scanId: string;
  status: ScanStatus;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  mailboxes?: number;
  bypassAssociations?: number;
  opened?: number;
  resolved?: number;
  gone?: number;
  stillOpen?: number;
  findingsByRule: Partial<Record<RuleId, number>>;
  /** In-scope mailboxes by coverage verdict, overall and per logon type. */
  coverage?: CoverageTally;
  ruleErrors?: number;
  apiCalls?: number;
  throttledCalls?: number;
  reason?: string;
}

function iso(date: Date | undefined): string | undefined {
  return date?.toISOString();
}

export function findingView(finding: StoredFinding, lastCompleted: StoredScanRun | undefined): FindingView {
  const derived =
    isActiveStatus(finding.status) && lastCompleted && lastCompleted.startedAt.getTime() > finding.firstSeen.getTime()
      ? lastCompleted.startedAt
      : finding.firstSeen;
  const lastSeen = isActiveStatus(finding.status) ? derived : (finding.lastSeen ?? finding.firstSeen);
  return {
    key: finding.key,
    ruleId: finding.ruleId,
    severity: finding.severity,
    status: finding.status,
    objectType: finding.objectType,
    objectId: finding.objectId,
    userPrincipalName: finding.userPrincipalName,
    ...(finding.logonType ? { logonType: finding.logonType } : {}),
    expected: finding.expected,
    actual: finding.actual,
    ...(finding.error ? { error: finding.error } : {}),
    firstSeen: finding.firstSeen.toISOString(),
    lastSeen: lastSeen.toISOString(),
    ...(finding.closedAt ? { closedAt: finding.closedAt.toISOString() } : {}),
    ...(finding.exception ? { exception: finding.exception } : {}),
    episode: finding.episode,
  };
}

export function eventView(event: DriftEvent): DriftEventView {
  return {
    eventId: event.eventId,
    type: event.type,
    at: event.at.toISOString(),
    ruleId: event.ruleId,
    severity: event.severity,
    objectType: event.objectType,
    objectId: event.objectId,
    userPrincipalName: event.userPrincipalName,
    ...(event.logonType ? { logonType: event.logonType } : {}),
    actor: event.actor,
    ...(event.reason ? { reason: event.reason } : {}),
    details: event.details,
    ...(event.scanId ? { scanId: event.scanId } : {}),
  };
}

export function scanView(run: StoredScanRun): ScanView {
  return {
    scanId: run.scanId,
    status: run.status,
    startedAt: run.startedAt.toISOString(),
    ...(run.finishedAt ? { finishedAt: iso(run.finishedAt) } : {}),
    ...(run.durationMs !== undefined ? { durationMs: run.durationMs } : {}),
    ...(run.mailboxes !== undefined ? { mailboxes: run.mailboxes } : {}),
    ...(run.bypassAssociations !== undefined ? { bypassAssociations: run.bypassAssociations } : {}),
    ...(run.opened !== undefined ? { opened: run.opened } : {}),
    ...(run.resolved !== undefined ? { resolved: run.resolved } : {}),
    ...(run.gone !== undefined ? { gone: run.gone } : {}),
    ...(run.stillOpen !== undefined ? { stillOpen: run.stillOpen } : {}),
    findingsByRule: run.findingsByRule,
    ...(run.coverage ? { coverage: run.coverage } : {}),
    ...(run.ruleErrors !== undefined ? { ruleErrors: run.ruleErrors } : {}),
    ...(run.apiCalls !== undefined ? { apiCalls: run.apiCalls } : {}),
    ...(run.throttledCalls !== undefined ? { throttledCalls: run.throttledCalls } : {}),
    ...(run.reason ? { reason: run.reason } : {}),
  };
}

/** The history of the configured tenant in the account AzureWebJobsStorage names (CLI and functions). */
