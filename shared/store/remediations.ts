import { odata, type TableEntityResult } from '@azure/data-tables';
import type { LogonType } from '../domain/audit';
import type { ObjectType, RuleId } from '../domain/finding';
import type { DirectLicenceRecord } from '../remediation/apply';
import type { RemediationChange, RemediationPlan } from '../remediation/plan';
import { isConditionFailed, isConflict, isNotFound } from './errors';
import { bucketOf, bucketPartition, invertedTime, monthOf, tenantKey, tenantPartitionRange } from './keys';
import type { BatchWriter } from './batch-writer';
import { readAll } from './paging';
import type { StoreTables } from './tables';

/**
 * Table `remediations`: the ledger of every change Audit Warden planned, applied and verified, one
 * row per idempotency key (hash of finding, episode and change), plus two small kinds of rows.
 *
 * - Ledger, PartitionKey `tenant|bucket(objectId)`, RowKey `r|<idempotencyKey>`. Written `queued`
 *   when the change is enqueued; the worker claims it (`applying`, with a lease naming the queue
 *   message) *before* calling Exchange — the intent — then records `applied`, and the verifier
 *   `verified` / `failed` / `blocked`. A redelivered message finds the row and knows whether the
 *   change was made, may have been made (a crash after the call: check the tenant before calling
 *   again), or is finished (acknowledge and do nothing). Every write carries the ETag it read.
 * - Budget, PartitionKey `tenant|budget`, RowKey `yyyymmdd` (UTC): automatic changes granted that
 *   night, for the blast-radius limit. Incremented with ETags, so two planners cannot both spend it.
 *   A ledger row granted from it names the day (`budgetDay`); if the change ends blocked (the
 *   tenant refused it, so nothing changed) its unit is given back, once (`budgetReleased`).
 * - Dead letters, PartitionKey `deadletter|yyyymm`, RowKey `invertedTime|queue|messageId`: messages
 *   that could not be read at all, or exhausted their retries. Nothing leaves a queue unrecorded.
 */
export const REMEDIATION_STATUSES = ['queued', 'applying', 'applied', 'verified', 'failed', 'blocked', 'skipped', 'cancelled'] as const;
export type RemediationStatus = (typeof REMEDIATION_STATUSES)[number];

/** Statuses after which a message for the same key has nothing left to do. */
export const FINISHED_REMEDIATION_STATUSES: ReadonlySet<RemediationStatus> = new Set(['verified', 'failed', 'blocked', 'skipped', 'cancelled']);

type LedgerEntity = {
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

/** The budget row's key for a day (UTC): yyyymmdd. */
export function budgetDayOf(day: Date): string {
  return day.toISOString().slice(0, 10).replace(/-/g, '');
}

export type ClaimResult =
  /** The caller holds the lease; `redelivery` when an earlier claim may have called the tenant already. */
  | { outcome: 'claimed'; record: RemediationRecord; redelivery: boolean }
  /** Applied; only the verification may be missing (enqueue it again: verifying twice is harmless). */
  | { outcome: 'applied'; record: RemediationRecord }
  | { outcome: 'finished'; record: RemediationRecord }
  /** Another message holds a live lease on the same change. */
  | { outcome: 'busy'; record: RemediationRecord };

export interface DeadLetter {
  at: Date;
  queue: string;
  messageId: string;
  dequeueCount: number;
  /** The message as received, truncated. */
  text: string;
  error: string;
  issues: string[];
  tenantId?: string;
  idempotencyKey?: string;
}

const MAX_TEXT = 30_000;

export class RemediationRepository {
  constructor(
    private readonly tables: StoreTables,
    private readonly writer: BatchWriter,
  ) {}

  get tableName(): string {
    return `${this.tables.names.prefix}remediations`;
  }

  private get table() {
    return this.tables.client(this.tableName);
  }

  private location(tenantId: string, objectId: string, idempotencyKey: string) {
    return { partitionKey: bucketPartition(tenantId, bucketOf(objectId.toLowerCase())), rowKey: `r|${idempotencyKey}` };
  }

  async get(tenantId: string, objectId: string, idempotencyKey: string): Promise<RemediationRecord | undefined> {
    const { partitionKey, rowKey } = this.location(tenantId, objectId, idempotencyKey);
    await this.tables.ensure(this.tableName);
    try {
      return toRecord(await this.table.getEntity<LedgerEntity>(partitionKey, rowKey));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.tables.fail(error, 'reading a remediation');
    }
  }

  /**
   * Records that a plan is being enqueued. Returns false when its row shows the change already in
   * hand (applying, applied, verified): the caller must not enqueue it again. A finished
   * but unsuccessful row (failed, blocked, cancelled, skipped) is set back to queued — the caller
   * asked for another attempt.
   */
  async markQueued(tenantId: string, plan: RemediationPlan, meta: QueuedMeta): Promise<boolean> {
    await this.tables.ensure(this.tableName);
    const entity = newEntity(tenantId, plan, meta, this.location(tenantId, plan.objectId, plan.idempotencyKey));
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        await this.table.createEntity(entity);
        return true;
      } catch (error) {
        if (!isConflict(error)) throw this.tables.fail(error, 'recording a queued remediation');
      }
      const current = await this.get(tenantId, plan.objectId, plan.idempotencyKey);
      if (!current) continue;
      // Queued but maybe never sent (the process stopped between): send again, the worker makes a
      // duplicate harmless. Applying, applied or verified: in hand already.
      if (current.status === 'queued') return true;
      if (!FINISHED_REMEDIATION_STATUSES.has(current.status) || current.status === 'verified') return false;
      try {
        // A direct licence an earlier attempt assigned stays on record whatever this attempt does.
        const kept = current.directLicence ? { directLicence: JSON.stringify(current.directLicence) } : {};
        await this.table.updateEntity({ ...entity, attempts: current.attempts, ...kept }, 'Replace', { etag: current.etag });
        return true;
      } catch (error) {
        if (!isConditionFailed(error) && !isNotFound(error)) throw this.tables.fail(error, 'requeueing a remediation');
      }
    }
    throw this.tables.fail(keptChanging(), 'recording a queued remediation (another writer keeps changing it)');
  }

  /**
   * markQueued for many plans: new rows are created in transactions of up to 100 per partition;
   * plans whose transaction met an existing row go through markQueued one by one. Returns, per
   * plan, whether to enqueue it.
   */
  async markQueuedMany(tenantId: string, plans: RemediationPlan[], meta: QueuedMeta): Promise<boolean[]> {
    if (plans.length === 0) return [];
    await this.tables.ensure(this.tableName);
    const results = await this.writer.write(
      plans.map((plan) => ({ table: this.tableName, action: ['create', newEntity(tenantId, plan, meta, this.location(tenantId, plan.objectId, plan.idempotencyKey))] })),
    );
    const decisions: boolean[] = [];
    for (const [index, plan] of plans.entries()) {
      decisions.push(results[index]?.ok ? true : await this.markQueued(tenantId, plan, meta));
    }
    return decisions;
  }

  /**
   * Takes the change in hand for one delivery of its message. The lease names the message: a
   * message redelivered after its previous delivery died (visibility timeout, host restart) takes
   * its own lease back at once; a different message for the same change waits for the lease.
   */
  async claim(
    tenantId: string,
    plan: RemediationPlan,
    delivery: { messageId: string; requestedBy: string; approvalId?: string },
    now: Date,
    leaseMs: number,
  ): Promise<ClaimResult> {
    await this.tables.ensure(this.tableName);
    const location = this.location(tenantId, plan.objectId, plan.idempotencyKey);
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.get(tenantId, plan.objectId, plan.idempotencyKey);
      const lease = { leaseMessageId: delivery.messageId, leaseUntil: new Date(now.getTime() + leaseMs).toISOString(), updatedAt: now.toISOString() };
      if (!current) {
        // A message whose queued row is missing (enqueued by hand, or the row was pruned): the
        // message itself is the intent.
        const entity = { ...newEntity(tenantId, plan, { ...delivery, at: now }, location), status: 'applying' as const, attempts: 1, ...lease };
        try {
          const response = await this.table.createEntity(entity);
          return { outcome: 'claimed', redelivery: false, record: { ...toRecord({ ...entity, etag: response.etag ?? '' } as TableEntityResult<LedgerEntity>) } };
        } catch (error) {
          if (isConflict(error)) continue;
          throw this.tables.fail(error, 'claiming a remediation');
        }
      }
      if (current.status === 'applied') return { outcome: 'applied', record: current };
      if (FINISHED_REMEDIATION_STATUSES.has(current.status)) return { outcome: 'finished', record: current };
      const leaseLive = current.status === 'applying' && current.leaseUntil !== undefined && current.leaseUntil.getTime() > now.getTime();
      if (leaseLive && current.leaseMessageId !== delivery.messageId) return { outcome: 'busy', record: current };
      try {
        const response = await this.table.updateEntity(
          { ...location, status: 'applying', attempts: current.attempts + 1, ...lease },
          'Merge',
          { etag: current.etag },
        );
        return {
          outcome: 'claimed',
          // 'applying' means an earlier delivery got at least as far as the intent: it may have called the tenant.
          redelivery: current.status === 'applying',
          record: { ...current, status: 'applying', attempts: current.attempts + 1, leaseMessageId: delivery.messageId, leaseUntil: new Date(lease.leaseUntil), etag: response.etag ?? '' },
        };
      } catch (error) {
        if (!isConditionFailed(error) && !isNotFound(error)) throw this.tables.fail(error, 'claiming a remediation');
      }
    }
    throw this.tables.fail(keptChanging(), 'claiming a remediation (another writer keeps changing it)');
  }

  /** The change was made (or found made): the lease is released and the verification may run. */
  async markApplied(
    record: RemediationRecord,
    outcome: { at: Date; alreadyInPlace: boolean; sent: unknown; warnings: string[]; directLicence?: DirectLicenceRecord },
  ): Promise<void> {
    await this.set(record, {
      status: 'applied',
      appliedAt: outcome.at.toISOString(),
      alreadyInPlace: outcome.alreadyInPlace,
      sent: truncate(JSON.stringify(outcome.sent ?? null)),
      warnings: truncate(JSON.stringify(outcome.warnings)),
      ...(outcome.directLicence ? { directLicence: JSON.stringify(outcome.directLicence) } : {}),
      leaseMessageId: '',
      leaseUntil: '',
      updatedAt: outcome.at.toISOString(),
    });
  }

  /** A final outcome. Idempotent: finishing a finished row again changes nothing. */
  async finish(
    tenantId: string,
    plan: Pick<RemediationPlan, 'objectId' | 'idempotencyKey'>,
    status: 'verified' | 'failed' | 'blocked' | 'skipped' | 'cancelled',
    detail: { at: Date; reason?: string; serviceMessage?: string },
  ): Promise<void> {
    const location = this.location(tenantId, plan.objectId, plan.idempotencyKey);
    await this.tables.ensure(this.tableName);
    const values = {
      ...location,
      status,
      finishedAt: detail.at.toISOString(),
      reason: truncate(detail.reason ?? ''),
      serviceMessage: truncate(detail.serviceMessage ?? ''),
      leaseMessageId: '',
      leaseUntil: '',
      updatedAt: detail.at.toISOString(),
    };
    try {
      // Merge-upsert: a poison handler may finish a change whose queued row never got written.
      await this.table.upsertEntity({ tenantId, idempotencyKey: plan.idempotencyKey, objectId: plan.objectId, ...values }, 'Merge');
    } catch (error) {
      throw this.tables.fail(error, `recording a remediation as ${status}`);
    }
  }

  /**
   * Finishes a row only if it is still as `record` read it (ETag): of two deliveries verifying the
   * same change, one records the outcome and the other learns it was a duplicate (returns false).
   */
  async finishFrom(
    record: RemediationRecord,
    status: 'verified' | 'failed' | 'skipped',
    detail: { at: Date; reason?: string },
  ): Promise<boolean> {
    const location = this.location(record.tenantId, record.objectId, record.idempotencyKey);
    try {
      await this.table.updateEntity(
        { ...location, status, finishedAt: detail.at.toISOString(), reason: truncate(detail.reason ?? ''), updatedAt: detail.at.toISOString() },
        'Merge',
        { etag: record.etag },
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error) || isNotFound(error)) return false;
      throw this.tables.fail(error, `recording a remediation as ${status}`);
    }
  }

  private async set(record: RemediationRecord, values: Partial<LedgerEntity>): Promise<void> {
    const location = this.location(record.tenantId, record.objectId, record.idempotencyKey);
    try {
      await this.table.updateEntity({ ...location, ...values }, 'Merge', { etag: record.etag });
    } catch (error) {
      if (isConditionFailed(error)) {
        // Someone else moved the row on (a redelivery finished first): their record stands.
        const current = await this.get(record.tenantId, record.objectId, record.idempotencyKey);
        if (current && current.status !== 'applying' && current.status !== 'queued') return;
        if (current) {
          await this.table.updateEntity({ ...location, ...values }, 'Merge', { etag: current.etag });
          return;
        }
      }
      throw this.tables.fail(error, 'recording a remediation');
    }
  }

  /** Every ledger row of a tenant (reports, the benchmark's "messages lost" count). */
  async *list(tenantId: string): AsyncGenerator<RemediationRecord> {
    const { low, high } = tenantPartitionRange(tenantId);
    for await (const entity of readAll<LedgerEntity>(
      this.tables,
      this.tableName,
      odata`PartitionKey ge ${low} and PartitionKey lt ${high} and RowKey ge ${'r|'} and RowKey lt ${'r}'}`,
      'reading remediations',
    )) {
      yield toRecord(entity);
    }
  }

  /**
   * Every change recorded for one finding (all its episodes), oldest first. Reads the object's one
   * partition, so it stays cheap however large the tenant is.
   */
  async forFinding(tenantId: string, objectId: string, findingKey: string): Promise<RemediationRecord[]> {
    const { partitionKey } = this.location(tenantId, objectId, '');
    const records: RemediationRecord[] = [];
    for await (const entity of readAll<LedgerEntity>(
      this.tables,
      this.tableName,
      odata`PartitionKey eq ${partitionKey} and RowKey ge ${'r|'} and RowKey lt ${'r}'} and findingKey eq ${findingKey}`,
      "reading a finding's remediations",
    )) {
      records.push(toRecord(entity));
    }
    return records.sort((a, b) => (a.queuedAt?.getTime() ?? 0) - (b.queuedAt?.getTime() ?? 0));
  }

  /** Licences Audit Warden assigned directly (and that were applied), for review and later removal. */
  async *directLicences(tenantId: string): AsyncGenerator<RemediationRecord & { directLicence: DirectLicenceRecord }> {
    for await (const record of this.list(tenantId)) {
      if (record.directLicence && (record.status === 'applied' || record.status === 'verified' || record.status === 'failed')) {
        yield record as RemediationRecord & { directLicence: DirectLicenceRecord };
      }
    }
  }

  /**
   * A change granted from the blast-radius budget ended without changing anything (blocked): gives
   * its unit back to the day it was granted from. Once per change — the ledger row is marked
   * first, ETag-guarded, and only the writer that marked it gives the unit back — so a redelivery
   * can never hand out more than was spent. Returns whether a unit was given back.
   */
  async releaseBudget(tenantId: string, plan: Pick<RemediationPlan, 'objectId' | 'idempotencyKey'>, at: Date): Promise<boolean> {
    const location = this.location(tenantId, plan.objectId, plan.idempotencyKey);
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.get(tenantId, plan.objectId, plan.idempotencyKey);
      if (!current?.budgetDay || current.budgetReleased) return false;
      try {
        await this.table.updateEntity({ ...location, budgetReleased: true, updatedAt: at.toISOString() }, 'Merge', { etag: current.etag });
      } catch (error) {
        if (isConditionFailed(error)) {
          await contentionPause(attempt);
          continue;
        }
        throw this.tables.fail(error, 'giving back a blast-radius unit');
      }
      await this.adjustBudget(tenantId, current.budgetDay, -1);
      return true;
    }
    throw this.tables.fail(keptChanging(), 'giving back a blast-radius unit (another writer keeps changing the change)');
  }

  private async adjustBudget(tenantId: string, budgetDay: string, delta: number): Promise<void> {
    const partitionKey = `${tenantKey(tenantId)}|budget`;
    for (let attempt = 0; attempt < 30; attempt++) {
      let row: { autoChanges?: number; etag: string };
      try {
        row = await this.table.getEntity<{ autoChanges: number }>(partitionKey, budgetDay);
      } catch (error) {
        if (isNotFound(error)) return;
        throw this.tables.fail(error, 'reading the blast-radius budget');
      }
      try {
        await this.table.updateEntity({ partitionKey, rowKey: budgetDay, autoChanges: Math.max(0, (row.autoChanges ?? 0) + delta) }, 'Merge', { etag: row.etag });
        return;
      } catch (error) {
        if (!isConditionFailed(error)) throw this.tables.fail(error, 'adjusting the blast-radius budget');
        await contentionPause(attempt);
      }
    }
    throw this.tables.fail(keptChanging(), 'adjusting the blast-radius budget (other planners keep changing it)');
  }

  async countByStatus(tenantId: string): Promise<Partial<Record<RemediationStatus, number>>> {
    const counts: Partial<Record<RemediationStatus, number>> = {};
    for await (const record of this.list(tenantId)) counts[record.status] = (counts[record.status] ?? 0) + 1;
    return counts;
  }

  /** Automatic changes already granted on `day` (UTC). */
  async usedAutoChanges(tenantId: string, day: Date): Promise<number> {
    await this.tables.ensure(this.tableName);
    try {
      return (await this.table.getEntity<{ autoChanges: number }>(...budgetLocation(tenantId, day))).autoChanges ?? 0;
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw this.tables.fail(error, 'reading the blast-radius budget');
    }
  }

  /**
   * Grants up to `wanted` automatic changes from the night's budget (`limit` per tenant per UTC
   * day) and returns how many were granted. ETag-guarded, so concurrent planners never overspend.
   */
  async reserveAutoChanges(tenantId: string, day: Date, wanted: number, limit: number): Promise<{ granted: number; usedBefore: number }> {
    await this.tables.ensure(this.tableName);
    const [partitionKey, rowKey] = budgetLocation(tenantId, day);
    for (let attempt = 0; attempt < 30; attempt++) {
      let used = 0;
      let etag: string | undefined;
      try {
        const row = await this.table.getEntity<{ autoChanges: number }>(partitionKey, rowKey);
        used = row.autoChanges ?? 0;
        etag = row.etag;
      } catch (error) {
        if (!isNotFound(error)) throw this.tables.fail(error, 'reading the blast-radius budget');
      }
      const granted = Math.max(0, Math.min(wanted, limit - used));
      if (granted === 0) return { granted, usedBefore: used };
      try {
        const entity = { partitionKey, rowKey, tenantId, autoChanges: used + granted, limit };
        if (etag) await this.table.updateEntity(entity, 'Replace', { etag });
        else await this.table.createEntity(entity);
        return { granted, usedBefore: used };
      } catch (error) {
        if (!isConditionFailed(error) && !isConflict(error)) throw this.tables.fail(error, 'spending the blast-radius budget');
        await contentionPause(attempt);
      }
    }
    throw this.tables.fail(keptChanging(), 'spending the blast-radius budget (other planners keep changing it)');
  }

  async recordDeadLetter(letter: DeadLetter): Promise<void> {
    await this.tables.ensure(this.tableName);
    const entity = {
      partitionKey: `deadletter|${monthOf(letter.at)}`,
      rowKey: `${invertedTime(letter.at)}|${letter.queue}|${letter.messageId.replace(/[^A-Za-z0-9._-]/g, '_')}`,
      at: letter.at.toISOString(),
      queue: letter.queue,
      messageId: letter.messageId,
      dequeueCount: letter.dequeueCount,
      text: truncate(letter.text),
      error: truncate(letter.error),
      issues: truncate(JSON.stringify(letter.issues)),
      tenantId: letter.tenantId ?? '',
      idempotencyKey: letter.idempotencyKey ?? '',
    };
    try {
      // Upsert on a key built from the message id: recording the same dead message twice is one row.
      await this.table.upsertEntity(entity, 'Replace');
    } catch (error) {
      throw this.tables.fail(error, 'recording a dead-letter message');
    }
  }

  /** Dead letters recorded in a month (`yyyymm`), newest first. */
  async deadLetters(month: string): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    for await (const entity of readAll<Record<string, unknown>>(
      this.tables,
      this.tableName,
      odata`PartitionKey eq ${`deadletter|${month}`}`,
      'reading dead-letter messages',
    )) {
      letters.push({
        at: new Date(String(entity.at)),
        queue: String(entity.queue),
        messageId: String(entity.messageId),
        dequeueCount: Number(entity.dequeueCount),
        text: String(entity.text ?? ''),
        error: String(entity.error ?? ''),
        issues: safeJson<string[]>(String(entity.issues || '[]'), []),
        ...(entity.tenantId ? { tenantId: String(entity.tenantId) } : {}),
        ...(entity.idempotencyKey ? { idempotencyKey: String(entity.idempotencyKey) } : {}),
      });
    }
    return letters;
  }
}

function budgetLocation(tenantId: string, day: Date): [string, string] {
  return [`${tenantKey(tenantId)}|budget`, budgetDayOf(day)];
}

function safeJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    // Truncated on write (over the property limit): keep what can be read.
    return fallback;
  }
}

function newEntity(
  tenantId: string,
  plan: RemediationPlan,
  meta: QueuedMeta,
  location: { partitionKey: string; rowKey: string },
): LedgerEntity {
  return {
    ...location,
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

function toRecord(entity: TableEntityResult<LedgerEntity>): RemediationRecord {
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

function truncate(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/**
 * The budget row is one hot row that every worker of a night writes: after a lost ETag race, wait a
 * jittered, growing moment so that the writers fall out of lockstep instead of colliding again.
 */
function contentionPause(attempt: number): Promise<void> {
  const ms = Math.min(500, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error of a row that stayed contended through every retry (a 412 with words, for storageError). */
function keptChanging(): Error & { statusCode: number } {
  return Object.assign(new Error('the row changed under every attempt (ETag mismatch)'), { statusCode: 412 });
}
