import type { RemediationPlan } from '../../remediation/plan';
import { isConditionFailed, isConflict, isNotFound } from '../errors';
import { tenantKey } from '../keys';
import type { StoreTables } from '../tables';
import type { RemediationLedger } from './ledger';
import { contentionPause, keptChanging, remediationsTable } from './table';

/** The budget row's key for a day (UTC): yyyymmdd. */
export function budgetDayOf(day: Date): string {
  return day.toISOString().slice(0, 10).replace(/-/g, '');
}

function budgetLocation(tenantId: string, budgetDay: string): [string, string] {
  return [`${tenantKey(tenantId)}|budget`, budgetDay];
}

/**
 * The blast-radius budget: how many automatic changes a tenant may be given per UTC day. One row
 * per tenant and day, spent and given back with ETags, so concurrent planners and workers never
 * hand out more than the limit.
 */
export class BlastRadiusBudget {
  constructor(
    private readonly tables: StoreTables,
    private readonly ledger: RemediationLedger,
  ) {}

  private get tableName(): string {
    return remediationsTable(this.tables);
  }

  private get table() {
    return this.tables.client(this.tableName);
  }

  /** Automatic changes already granted on `day` (UTC). */
  async usedAutoChanges(tenantId: string, day: Date): Promise<number> {
    await this.tables.ensure(this.tableName);
    try {
      return (await this.table.getEntity<{ autoChanges: number }>(...budgetLocation(tenantId, budgetDayOf(day)))).autoChanges ?? 0;
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
    const [partitionKey, rowKey] = budgetLocation(tenantId, budgetDayOf(day));
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

  /**
   * A change granted from the blast-radius budget ended without changing anything (blocked): gives
   * its unit back to the day it was granted from. Once per change — the ledger row is marked
   * first, ETag-guarded, and only the writer that marked it gives the unit back — so a redelivery
   * can never hand out more than was spent. Returns whether a unit was given back.
   */
  async releaseBudget(tenantId: string, plan: Pick<RemediationPlan, 'objectId' | 'idempotencyKey'>, at: Date): Promise<boolean> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.ledger.get(tenantId, plan.objectId, plan.idempotencyKey);
      if (!current?.budgetDay || current.budgetReleased) return false;
      if (!(await this.ledger.setIfUnchanged(current, { budgetReleased: true, updatedAt: at.toISOString() }, 'giving back a blast-radius unit'))) {
        await contentionPause(attempt);
        continue;
      }
      await this.adjust(tenantId, current.budgetDay, -1);
      return true;
    }
    throw this.tables.fail(keptChanging(), 'giving back a blast-radius unit (another writer keeps changing the change)');
  }

  private async adjust(tenantId: string, budgetDay: string, delta: number): Promise<void> {
    const [partitionKey, rowKey] = budgetLocation(tenantId, budgetDay);
    for (let attempt = 0; attempt < 30; attempt++) {
      let row: { autoChanges?: number; etag: string };
      try {
        row = await this.table.getEntity<{ autoChanges: number }>(partitionKey, rowKey);
      } catch (error) {
        if (isNotFound(error)) return;
        throw this.tables.fail(error, 'reading the blast-radius budget');
      }
      try {
        await this.table.updateEntity({ partitionKey, rowKey, autoChanges: Math.max(0, (row.autoChanges ?? 0) + delta) }, 'Merge', { etag: row.etag });
        return;
      } catch (error) {
        if (!isConditionFailed(error)) throw this.tables.fail(error, 'adjusting the blast-radius budget');
        await contentionPause(attempt);
      }
    }
    throw this.tables.fail(keptChanging(), 'adjusting the blast-radius budget (other planners keep changing it)');
  }
}
