import type { TableEntityResult } from '@azure/data-tables';
import type { LogonType } from '../../domain/audit';
import { canonicalRuleId, findingKey, type FindingValue, type ObjectType, type RuleId, type Severity } from '../../domain/finding';
import { ValidationError } from '../../errors';
import type { FindingState, FindingStatus, FindingUpdate } from '../../lifecycle';
import { bucketOf, bucketPartition, checkKeyLength, objectKey } from '../keys';
import type { FindingRef, StoredFinding } from '../model';

/**
 * Table `findings`: the current state of every finding ever seen (closed ones stay, so a finding
 * that comes back continues its event numbering).
 *
 * PartitionKey = `tenant|bucket(objectId)`, RowKey = `objectId|ruleId|logonType`. An object's
 * findings share a partition (its history of drift is one range read), a night's writes spread
 * over the buckets and batch 100 to a transaction, and all of a tenant's findings are one
 * PartitionKey range, read whole when a scan begins and filtered for the open-findings query.
 *
 * Each row is also the outbox of its own drift events (see outbox.ts).
 */
export type FindingEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  findingKey: string;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  objectIdLower: string;
  upn: string;
  upnLower: string;
  /** '' when the rule has no logon type (Table Storage cannot store undefined; '' is our "none"). */
  logonType: string;
  severity: Severity;
  status: FindingStatus;
  expected: string;
  actual: string;
  error: string;
  firstSeen: string;
  lastSeen: string;
  closedAt: string;
  exceptionReason: string;
  exceptionExpires: string;
  episode: number;
  seq: number;
  episodeStartSeq: number;
  /** Digest of what a re-scan may change without a transition (details, severity, UPN, exception). */
  detailHash: string;
  /** seq of an event written to this row but not yet confirmed in the event tables; 0 = none. */
  pendingSeq: number;
  pendingEvent: string;
  metadata: string;
  updatedAt: string;
};

/** The columns a transition writes; the keys say which row. */
export type FindingPatch = Partial<FindingEntity> & { partitionKey: string; rowKey: string };

/** A finding's lifecycle state as its row holds it: where the row is, the ETag read, the outbox marker. */
export interface FindingRow extends FindingState {
  partitionKey: string;
  rowKey: string;
  /** seq of the event this row carries until the event tables have it; 0 = none. */
  pendingSeq: number;
  /** That event, serialised. */
  pendingEvent: string;
  etag: string;
}

/** What a scan reads of every finding at begin (~100 bytes a row, not the details). */
export const ROW_COLUMNS = [
  'PartitionKey',
  'RowKey',
  'findingKey',
  'ruleId',
  'objectType',
  'objectId',
  'upn',
  'logonType',
  'severity',
  'status',
  'firstSeen',
  'episode',
  'seq',
  'episodeStartSeq',
  'detailHash',
  'pendingSeq',
  'pendingEvent',
];

export function findingLocation(tenantId: string, ref: FindingRef): { partitionKey: string; rowKey: string } {
  return {
    partitionKey: bucketPartition(tenantId, bucketOf(ref.objectId.toLowerCase())),
    rowKey: checkKeyLength(`${objectKey(ref.objectId)}|${ref.ruleId}|${ref.logonType ?? '-'}`, 'The finding key'),
  };
}

export function rowFromEntity(entity: TableEntityResult<Partial<FindingEntity>> & { etag: string }): FindingRow {
  return {
    partitionKey: entity.partitionKey ?? '',
    rowKey: entity.rowKey ?? '',
    key: entity.findingKey ?? '',
    // Rows stored under a rule's earlier id read as its current id.
    ruleId: (canonicalRuleId(entity.ruleId ?? '') ?? entity.ruleId) as RuleId,
    objectType: entity.objectType as ObjectType,
    objectId: entity.objectId ?? '',
    upn: entity.upn ?? '',
    ...(entity.logonType ? { logonType: entity.logonType as LogonType } : {}),
    severity: entity.severity as Severity,
    status: entity.status as FindingStatus,
    firstSeen: entity.firstSeen ?? '',
    episode: entity.episode ?? 0,
    seq: entity.seq ?? 0,
    episodeStartSeq: entity.episodeStartSeq ?? 0,
    detailHash: entity.detailHash ?? '',
    pendingSeq: entity.pendingSeq ?? 0,
    pendingEvent: entity.pendingEvent ?? '',
    etag: entity.etag,
  };
}

export function toStoredFinding(entity: TableEntityResult<FindingEntity>): StoredFinding {
  const ruleId = canonicalRuleId(entity.ruleId) ?? entity.ruleId;
  return {
    tenantId: entity.tenantId,
    key: ruleId === entity.ruleId ? entity.findingKey : findingKey({ ruleId, objectId: entity.objectId, ...(entity.logonType ? { logonType: entity.logonType as LogonType } : {}) }),
    ruleId,
    objectType: entity.objectType,
    objectId: entity.objectId,
    userPrincipalName: entity.upn,
    ...(entity.logonType ? { logonType: entity.logonType as LogonType } : {}),
    severity: entity.severity,
    status: entity.status,
    expected: entity.expected ? (JSON.parse(entity.expected) as FindingValue) : null,
    actual: entity.actual ? (JSON.parse(entity.actual) as FindingValue) : null,
    ...(entity.error ? { error: entity.error } : {}),
    firstSeen: new Date(entity.firstSeen),
    ...(entity.lastSeen ? { lastSeen: new Date(entity.lastSeen) } : {}),
    ...(entity.closedAt ? { closedAt: new Date(entity.closedAt) } : {}),
    ...(entity.exceptionReason ? { exception: { reason: entity.exceptionReason, expires: entity.exceptionExpires } } : {}),
    episode: entity.episode,
    seq: entity.seq,
    episodeStartSeq: entity.episodeStartSeq,
    metadata: entity.metadata ? (JSON.parse(entity.metadata) as Record<string, FindingValue>) : {},
    etag: entity.etag,
  };
}

/**
 * The columns a lifecycle update sets on the row at `location`. A new row starts with empty
 * metadata. Dates are ISO strings; '' is "none" (a reopened finding is neither closed nor last seen).
 */
export function patchOf(tenantId: string, location: { partitionKey: string; rowKey: string }, update: FindingUpdate, create: boolean): FindingPatch {
  const patch: FindingPatch = { ...location, updatedAt: update.updatedAt.toISOString() };
  if (update.observed) Object.assign(patch, observedColumns(tenantId, update.observed));
  if (update.status) patch.status = update.status;
  if (update.seq !== undefined) patch.seq = update.seq;
  if (update.episode) {
    const { number, firstSeen, startSeq } = update.episode;
    Object.assign(patch, { episode: number, firstSeen: firstSeen.toISOString(), episodeStartSeq: startSeq, closedAt: '', lastSeen: '' });
  }
  if (update.closed) Object.assign(patch, { closedAt: update.closed.at.toISOString(), lastSeen: update.closed.lastSeen.toISOString() });
  if (update.metadata) patch.metadata = JSON.stringify(update.metadata);
  else if (create) patch.metadata = '{}';
  return patch;
}

function observedColumns(tenantId: string, { finding, exception, detailHash }: NonNullable<FindingUpdate['observed']>): Partial<FindingEntity> {
  return {
    tenantId,
    findingKey: findingKey(finding),
    ruleId: finding.ruleId,
    objectType: finding.objectType,
    objectId: finding.objectId,
    objectIdLower: finding.objectId.toLowerCase(),
    upn: finding.userPrincipalName,
    upnLower: finding.userPrincipalName.toLowerCase(),
    logonType: finding.logonType ?? '',
    severity: finding.severity,
    expected: valueJson(finding.expected),
    actual: valueJson(finding.actual),
    error: finding.error ?? '',
    exceptionReason: exception?.reason ?? '',
    exceptionExpires: exception?.expires ?? '',
    detailHash,
  };
}

/** Values are JSON in one string property; a 64 KiB property limit is far above any rule's output, but guard it. */
function valueJson(value: FindingValue): string {
  const json = JSON.stringify(value ?? null);
  return json.length > 30_000 ? JSON.stringify(`${json.slice(0, 30_000)}… (truncated)`) : json;
}

/** Parses `ruleId|objectId[|logonType]` (findingKey's format) back into its parts. */
export function parseFindingKey(key: string): FindingRef {
  const parts = key.split('|');
  const ruleId = (canonicalRuleId(parts[0] ?? '') ?? parts[0]) as RuleId;
  const last = parts[parts.length - 1];
  if (parts.length >= 3 && (last === 'Owner' || last === 'Delegate' || last === 'Admin')) {
    return { ruleId, objectId: parts.slice(1, -1).join('|'), logonType: last };
  }
  if (parts.length < 2) throw new ValidationError(`"${key}" is not a finding key (rule|object[|logonType]).`, 'finding key');
  return { ruleId, objectId: parts.slice(1).join('|') };
}
