import type { TableEntityResult } from '@azure/data-tables';
import type { LogonType } from '../../domain/audit';
import type { ObjectType, RuleId } from '../../domain/finding';
import type { DirectLicenceRecord } from '../../tenant/apply';
import type { RemediationChange, RemediationPlan } from '../../remediation/plan';
import { bucketOf, bucketPartition } from '../keys';
import { safeJson, truncate } from './table';

export const REMEDIATION_STATUSES = ['queued', 'applying', 'applied', 'verified', 'failed', 'blocked', 'skipped', 'cancelled'] as const;
export type RemediationStatus = (typeof REMEDIATION_STATUSES)[number];

/** Statuses after which a message for the same key has nothing left to do. */
export const FINISHED_REMEDIATION_STATUSES: ReadonlySet<RemediationStatus> = new Set(['verified', 'failed', 'blocked', 'skipped', 'cancelled']);

/** One ledger row (see table.ts). */
export type LedgerEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  idempotencyKey: string;
  findingKey: string;
  episode: number;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  upn: string;
  logonType: string;
  change: string;
  description: string;
  status: RemediationStatus;
  requestedBy: string;
  approvalId: string;
  queuedAt: string;
  /** Claims so far (first delivery = 1); a claim after the first is a redelivery. */
  attempts: number;
  leaseMessageId: string;
  leaseUntil: string;
  appliedAt: string;
  /** The tenant already had the setting when a redelivered message checked: nothing was sent. */
  alreadyInPlace: boolean;
  /** What was sent, as JSON (the exact Set-* parameters or Graph body). */
  sent: string;
  warnings: string;
  finishedAt: string;
  reason: string;
  /** Exchange's or Graph's own words, when they refused. */
  serviceMessage: string;
  /** yyyymmdd of the blast-radius budget this automatic change was granted from; '' if none. */
  budgetDay: string;
  /** The unit was given back (the change ended blocked). */
  budgetReleased: boolean;
  /** JSON DirectLicenceRecord: a licence this change assigned directly, to be removed some day. */
  directLicence: string;
  updatedAt: string;
};

/** A plan's own fields, and what happened to it. */
export interface RemediationRecord extends RemediationPlan {
  tenantId: string;
  status: RemediationStatus;
  requestedBy: string;
  approvalId?: string;
  queuedAt?: Date;
  attempts: number;
  leaseMessageId?: string;
  leaseUntil?: Date;
  appliedAt?: Date;
  alreadyInPlace: boolean;
  sent?: unknown;
  warnings: string[];
  finishedAt?: Date;
  reason?: string;
  serviceMessage?: string;
  /** yyyymmdd of the blast-radius budget the change was granted from (automatic changes only). */
  budgetDay?: string;
  budgetReleased: boolean;
  /** Set when the change assigned a licence directly (assign-licence). */
  directLicence?: DirectLicenceRecord;
  etag: string;
}

/** Where a planning run records what it queued; `budgetDay` only for changes granted from the blast radius. */
export interface QueuedMeta {
  requestedBy: string;
  approvalId?: string;
  at: Date;
  budgetDay?: string;
}

/** A change's ledger row: in its object's partition, so one finding's changes are one partition read. */
export function ledgerLocation(tenantId: string, objectId: string, idempotencyKey: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: bucketPartition(tenantId, bucketOf(objectId.toLowerCase())), rowKey: `r|${idempotencyKey}` };
}

export function newLedgerEntity(tenantId: string, plan: RemediationPlan, meta: QueuedMeta): LedgerEntity {
  return {
    ...ledgerLocation(tenantId, plan.objectId, plan.idempotencyKey),
    tenantId,
    idempotencyKey: plan.idempotencyKey,
    findingKey: plan.findingKey,
    episode: plan.episode,
    ruleId: plan.ruleId,
    objectType: plan.objectType,
    objectId: plan.objectId,
    upn: plan.userPrincipalName,
    logonType: plan.logonType ?? '',
    change: JSON.stringify(plan.change),
    description: truncate(plan.description),
    status: 'queued',
    requestedBy: meta.requestedBy,
    approvalId: meta.approvalId ?? '',
    queuedAt: meta.at.toISOString(),
    attempts: 0,
    leaseMessageId: '',
    leaseUntil: '',
    appliedAt: '',
    alreadyInPlace: false,
    sent: '',
    warnings: '[]',
    finishedAt: '',
    reason: '',
    serviceMessage: '',
    budgetDay: meta.budgetDay ?? '',
    budgetReleased: false,
    directLicence: '',
    updatedAt: meta.at.toISOString(),
  };
}

export function toRemediationRecord(entity: TableEntityResult<LedgerEntity>): RemediationRecord {
  const date = (value: string | undefined) => (value ? new Date(value) : undefined);
  return {
    tenantId: entity.tenantId,
    idempotencyKey: entity.idempotencyKey,
    findingKey: entity.findingKey,
    episode: entity.episode,
    ruleId: entity.ruleId,
    objectType: entity.objectType,
    objectId: entity.objectId,
    userPrincipalName: entity.upn ?? '',
    ...(entity.logonType ? { logonType: entity.logonType as LogonType } : {}),
    change: entity.change ? (JSON.parse(entity.change) as RemediationChange) : ({} as RemediationChange),
    description: entity.description ?? '',
    status: entity.status,
    requestedBy: entity.requestedBy ?? '',
    ...(entity.approvalId ? { approvalId: entity.approvalId } : {}),
    queuedAt: date(entity.queuedAt),
    attempts: entity.attempts ?? 0,
    ...(entity.leaseMessageId ? { leaseMessageId: entity.leaseMessageId } : {}),
    leaseUntil: date(entity.leaseUntil),
    appliedAt: date(entity.appliedAt),
    alreadyInPlace: entity.alreadyInPlace ?? false,
    ...(entity.sent ? { sent: safeJson<unknown>(entity.sent, entity.sent) } : {}),
    warnings: entity.warnings ? safeJson<string[]>(entity.warnings, []) : [],
    finishedAt: date(entity.finishedAt),
    ...(entity.reason ? { reason: entity.reason } : {}),
    ...(entity.serviceMessage ? { serviceMessage: entity.serviceMessage } : {}),
    ...(entity.budgetDay ? { budgetDay: entity.budgetDay } : {}),
    budgetReleased: entity.budgetReleased ?? false,
    ...directLicenceOf(entity.directLicence),
    etag: entity.etag,
  };
}

function directLicenceOf(text: string | undefined): { directLicence?: DirectLicenceRecord } {
  const value = text ? safeJson<DirectLicenceRecord | null>(text, null) : null;
  return value ? { directLicence: value } : {};
}
