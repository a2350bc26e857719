import { odata, type TableEntityResult } from '@azure/data-tables';
import { canonicalRuleId, type RuleId } from '../domain/finding';
import type { CoverageTally } from '../rules/coverage';
import type { ScanRun, ScanTotals } from '../domain/ports';
import { isNotFound } from './errors';
import { checkKeyLength, encodeKeyPart, tenantKey } from './keys';
import type { ScanStatus, StoredScanRun } from './model';
import { readPage, type Page, type PageRequest } from './paging';
import type { StoreTables } from './tables';

/**
 * Table `scans`: PartitionKey = tenant, RowKey = the scan id (inverted start time, given by the
 * scan service). One tenant's runs are one partition read newest-first without sorting; a tenant
 * accumulates one row a night, so the partition stays small.
 */
type ScanEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  scanId: string;
  status: ScanStatus;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  mailboxes?: number;
  bypassAssociations?: number;
  findingsByRule?: string;
  /** CoverageTally as JSON. */
  coverage?: string;
  ruleErrors?: number;
  apiCalls?: number;
  throttledCalls?: number;
  opened?: number;
  resolved?: number;
  gone?: number;
  stillOpen?: number;
  reason?: string;
}

export interface ScanOutcome {
  opened: number;
  resolved: number;
  gone: number;
  stillOpen: number;
}

export class ScanRunRepository {
  constructor(private readonly tables: StoreTables) {}

  private get table() {
    return this.tables.client(this.tables.names.scans);
  }

  private rowKey(scanId: string): string {
    return checkKeyLength(encodeKeyPart(scanId), 'The scan id');
  }

  async begin(run: ScanRun): Promise<void> {
    const entity: ScanEntity = {
      partitionKey: tenantKey(run.tenantId),
      rowKey: this.rowKey(run.scanId),
      tenantId: run.tenantId,
      scanId: run.scanId,
      status: 'running',
      startedAt: run.startedAt.toISOString(),
    };
    try {
      // Upsert: the scan service may retry begin with the same run after a transient failure.
      await this.table.upsertEntity(entity, 'Replace');
    } catch (error) {
      throw this.tables.fail(error, 'recording the start of the scan');
    }
  }

  async complete(run: ScanRun, totals: ScanTotals, outcome: ScanOutcome): Promise<void> {
    const entity: Partial<ScanEntity> & { partitionKey: string; rowKey: string } = {
      partitionKey: tenantKey(run.tenantId),
      rowKey: this.rowKey(run.scanId),
      status: 'completed',
      finishedAt: totals.finishedAt.toISOString(),
      durationMs: Math.max(0, totals.finishedAt.getTime() - run.startedAt.getTime()),
      mailboxes: totals.mailboxes,
      bypassAssociations: totals.bypassAssociations,
      findingsByRule: JSON.stringify(totals.findingsByRule),
      coverage: JSON.stringify(totals.coverage),
      ruleErrors: totals.ruleErrors,
      apiCalls: totals.apiCalls,
      throttledCalls: totals.throttledCalls,
      ...outcome,
    };
    try {
      await this.table.upsertEntity(entity, 'Merge');
    } catch (error) {
      throw this.tables.fail(error, 'recording the end of the scan');
    }
  }

  async setStatus(tenantId: string, scanId: string, status: ScanStatus, reason?: string, finishedAt?: Date): Promise<void> {
    try {
      await this.table.upsertEntity(
        {
          partitionKey: tenantKey(tenantId),
          rowKey: this.rowKey(scanId),
          status,
          ...(reason !== undefined ? { reason: reason.slice(0, 2000) } : {}),
          ...(finishedAt ? { finishedAt: finishedAt.toISOString() } : {}),
        },
        'Merge',
      );
    } catch (error) {
      throw this.tables.fail(error, `marking the scan ${status}`);
    }
  }

  /** The newest completed run: open findings were last seen by it (see StoredFinding.lastSeen). */
  async lastCompleted(tenantId: string): Promise<StoredScanRun | undefined> {
    return (await this.withStatus(tenantId, 'completed', 1))[0];
  }

  async withStatus(tenantId: string, status: ScanStatus, limit = 1000): Promise<StoredScanRun[]> {
    const found: StoredScanRun[] = [];
    try {
      const pages = this.table
        .listEntities<ScanEntity>({ queryOptions: { filter: odata`PartitionKey eq ${tenantKey(tenantId)} and status eq ${status}` } })
        .byPage({ maxPageSize: Math.min(limit, 1000) });
      for await (const page of pages) {
        for (const entity of page) {
          found.push(toScanRun(entity));
          if (found.length >= limit) return found;
        }
      }
    } catch (error) {
      if (isNotFound(error)) return found; // no table yet: no scan has run
      throw this.tables.fail(error, 'reading scan runs');
    }
    return found;
  }

  async list(tenantId: string, page: PageRequest): Promise<Page<StoredScanRun>> {
    return readPage(this.tables, this.tables.names.scans, odata`PartitionKey eq ${tenantKey(tenantId)}`, page, toScanRun, 'reading scan runs');
  }
}

export function toScanRun(entity: TableEntityResult<ScanEntity>): StoredScanRun {
  return {
    tenantId: entity.tenantId,
    scanId: entity.scanId,
    status: entity.status,
    startedAt: new Date(entity.startedAt),
    finishedAt: entity.finishedAt ? new Date(entity.finishedAt) : undefined,
    durationMs: entity.durationMs,
    mailboxes: entity.mailboxes,
    bypassAssociations: entity.bypassAssociations,
    findingsByRule: entity.findingsByRule ? countsByCurrentRuleId(JSON.parse(entity.findingsByRule) as Record<string, number>) : {},
    ...(entity.coverage ? { coverage: JSON.parse(entity.coverage) as CoverageTally } : {}),
    ruleErrors: entity.ruleErrors,
    apiCalls: entity.apiCalls,
    throttledCalls: entity.throttledCalls,
    opened: entity.opened,
    resolved: entity.resolved,
    gone: entity.gone,
    stillOpen: entity.stillOpen,
    reason: entity.reason,
  };
}

/** Counts stored under a rule's earlier id add to its current id; ids no rule has any more are dropped. */
function countsByCurrentRuleId(stored: Record<string, number>): Partial<Record<RuleId, number>> {
  const counts: Partial<Record<RuleId, number>> = {};
  for (const [id, count] of Object.entries(stored)) {
    const current = canonicalRuleId(id);
    if (current && typeof count === 'number') counts[current] = (counts[current] ?? 0) + count;
  }
  return counts;
}
