import { odata } from '@azure/data-tables';
import type { DirectLicenceRecord } from '../../tenant/apply';
import type { RemediationPlan } from '../../remediation/plan';
import type { BatchWriter } from '../batch-writer';
import { isConditionFailed, isConflict, isNotFound } from '../errors';
import { tenantPartitionRange } from '../keys';
import { readAll } from '../paging';
import type { StoreTables } from '../tables';
import {
  FINISHED_REMEDIATION_STATUSES,
  ledgerLocation,
  newLedgerEntity,
  toRemediationRecord,
  type LedgerEntity,
  type QueuedMeta,
  type RemediationRecord,
  type RemediationStatus,
} from './ledger-record';
import { keptChanging, remediationsTable, truncate } from './table';

export type ClaimResult =
  /** The caller holds the lease; `redelivery` when an earlier claim may have called the tenant already. */
  | { outcome: 'claimed'; record: RemediationRecord; redelivery: boolean }
  /** Applied; only the verification may be missing (enqueue it again: verifying twice is harmless). */
  | { outcome: 'applied'; record: RemediationRecord }
  | { outcome: 'finished'; record: RemediationRecord }
  /** Another message holds a live lease on the same change. */
  | { outcome: 'busy'; record: RemediationRecord };

/** The ledger rows of the remediations table: one change each, from queued to its final outcome. */
export class RemediationLedger {
  constructor(
    private readonly tables: StoreTables,
    private readonly writer: BatchWriter,
  ) {}

  get tableName(): string {
    return remediationsTable(this.tables);
  }

  private get table() {
    return this.tables.client(this.tableName);
  }

  async get(tenantId: string, objectId: string, idempotencyKey: string): Promise<RemediationRecord | undefined> {
    const { partitionKey, rowKey } = ledgerLocation(tenantId, objectId, idempotencyKey);
    await this.tables.ensure(this.tableName);
    try {
      return toRemediationRecord(await this.table.getEntity<LedgerEntity>(partitionKey, rowKey));
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
    const entity = newLedgerEntity(tenantId, plan, meta);
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
    const results = await this.writer.write(plans.map((plan) => ({ table: this.tableName, action: ['create', newLedgerEntity(tenantId, plan, meta)] })));
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
    const location = ledgerLocation(tenantId, plan.objectId, plan.idempotencyKey);
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.get(tenantId, plan.objectId, plan.idempotencyKey);
      const lease = { leaseMessageId: delivery.messageId, leaseUntil: new Date(now.getTime() + leaseMs).toISOString(), updatedAt: now.toISOString() };
      if (!current) {
        // A message whose queued row is missing (enqueued by hand, or the row was pruned): the
        // message itself is the intent.
        const entity = { ...newLedgerEntity(tenantId, plan, { ...delivery, at: now }), status: 'applying' as const, attempts: 1, ...lease };
        try {
          const response = await this.table.createEntity(entity);
          return { outcome: 'claimed', redelivery: false, record: toRemediationRecord({ ...entity, etag: response.etag ?? '' }) };
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
        const response = await this.table.updateEntity({ ...location, status: 'applying', attempts: current.attempts + 1, ...lease }, 'Merge', { etag: current.etag });
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
    await this.tables.ensure(this.tableName);
    const values = {
      ...ledgerLocation(tenantId, plan.objectId, plan.idempotencyKey),
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
  async finishFrom(record: RemediationRecord, status: 'verified' | 'failed' | 'skipped', detail: { at: Date; reason?: string }): Promise<boolean> {
    const location = ledgerLocation(record.tenantId, record.objectId, record.idempotencyKey);
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

  /** Writes `values` to a ledger row only if it is still as `record` read it (ETag); false when another writer changed it first. */
  async setIfUnchanged(record: RemediationRecord, values: Partial<LedgerEntity>, doing: string): Promise<boolean> {
    const location = ledgerLocation(record.tenantId, record.objectId, record.idempotencyKey);
    try {
      await this.table.updateEntity({ ...location, ...values }, 'Merge', { etag: record.etag });
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw this.tables.fail(error, doing);
    }
  }

  private async set(record: RemediationRecord, values: Partial<LedgerEntity>): Promise<void> {
    const location = ledgerLocation(record.tenantId, record.objectId, record.idempotencyKey);
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
      yield toRemediationRecord(entity);
    }
  }

  /**
   * Every change recorded for one finding (all its episodes), oldest first. Reads the object's one
   * partition, so it stays cheap however large the tenant is.
   */
  async forFinding(tenantId: string, objectId: string, findingKey: string): Promise<RemediationRecord[]> {
    const { partitionKey } = ledgerLocation(tenantId, objectId, '');
    const records: RemediationRecord[] = [];
    for await (const entity of readAll<LedgerEntity>(
      this.tables,
      this.tableName,
      odata`PartitionKey eq ${partitionKey} and RowKey ge ${'r|'} and RowKey lt ${'r}'} and findingKey eq ${findingKey}`,
      "reading a finding's remediations",
    )) {
      records.push(toRemediationRecord(entity));
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

  async countByStatus(tenantId: string): Promise<Partial<Record<RemediationStatus, number>>> {
    const counts: Partial<Record<RemediationStatus, number>> = {};
    for await (const record of this.list(tenantId)) counts[record.status] = (counts[record.status] ?? 0) + 1;
    return counts;
  }
}
