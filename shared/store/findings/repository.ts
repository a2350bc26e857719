import { odata, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type { Clock } from '../../domain/ports';
import { findingKey, ruleIdAliases, type FindingValue, type RuleId, type Severity } from '../../domain/finding';
import { planChange, type FindingChange, type FindingStatus, type Transition } from '../../lifecycle';
import type { Logger } from '../../logging';
import type { BatchWriter, RowResult, RowWrite } from '../batch-writer';
import { isConditionFailed, isConflict, isNotFound } from '../errors';
import type { DriftEventRepository } from '../events';
import { ruleIdFilter, tenantPartitionRange } from '../keys';
import type { FindingRef, StoredFinding } from '../model';
import { readAll, readPage, type Page, type PageRequest } from '../paging';
import type { StoreTables } from '../tables';
import { findingLocation, ROW_COLUMNS, rowFromEntity, toStoredFinding, type FindingEntity, type FindingRow } from './entity';
import { findingWrite, FindingOutbox, type FindingWrite } from './outbox';

/** Plans a change from the row as read (undefined: no row yet); undefined = nothing to do. */
export type Planner = (current: FindingRow | undefined, entity?: TableEntityResult<FindingEntity>) => Transition | undefined;

/** One finding's write in a batched commit. */
export interface CommitItem {
  ref: FindingRef;
  write: FindingWrite;
  /** Re-plans from a fresh read when the batched write lost a race (ETag) with another writer. */
  replan: Planner;
}

export interface FindingFilter {
  ruleId?: RuleId;
  severity?: Severity;
  /** A status, or 'active' for every status but resolved and gone, or 'all'. */
  status?: FindingStatus | 'active' | 'all';
  /** Object id or UPN (case-insensitive). */
  mailbox?: string;
}

/**
 * The findings of every tenant: reads (the scan's compact memory, one finding, filtered pages),
 * writes that carry the ETag they read and redo on 412, and batched commits. Every transition's
 * event goes through the outbox, so a crash between the row and its events converges.
 */
export class FindingRepository {
  readonly outbox: FindingOutbox;

  constructor(
    private readonly tables: StoreTables,
    private readonly writer: BatchWriter,
    events: DriftEventRepository,
    private readonly logger: Logger,
    private readonly clock: Clock = () => new Date(),
  ) {
    this.outbox = new FindingOutbox(tables, writer, events);
  }

  private get table() {
    return this.tables.client(this.tables.names.findings);
  }

  /** Every finding of a tenant, compact, page by page (the scan's memory). */
  async *states(tenantId: string): AsyncGenerator<FindingRow> {
    for await (const entity of this.inTenant(tenantId, undefined, 'reading the findings', ROW_COLUMNS)) yield rowFromEntity(entity);
  }

  /** Whether this row was stored under an earlier id of its rule (its key still names that id). */
  storedUnderEarlierId(tenantId: string, row: FindingRow): boolean {
    return findingLocation(tenantId, row).rowKey !== row.rowKey;
  }

  /**
   * Moves a row stored under an earlier id of its rule to the current id's key, in one transaction
   * (both keys share the object's partition), so the finding keeps its first-seen date and history
   * instead of being resolved and detected again. Returns the row at its new key.
   */
  async moveToCurrentRuleId(tenantId: string, row: FindingRow): Promise<FindingRow> {
    const location = findingLocation(tenantId, row);
    try {
      const old = await this.table.getEntity<FindingEntity>(row.partitionKey, row.rowKey);
      const { etag: _etag, timestamp: _timestamp, ...fields } = old as TableEntityResult<FindingEntity> & { timestamp?: string };
      const moved: FindingEntity = { ...(fields), rowKey: location.rowKey, ruleId: row.ruleId, findingKey: findingKey(row) };
      await this.table.submitTransaction([
        ['upsert', moved, 'Replace'],
        ['delete', { partitionKey: row.partitionKey, rowKey: row.rowKey }],
      ]);
      return rowFromEntity(await this.table.getEntity<FindingEntity>(location.partitionKey, location.rowKey));
    } catch (error) {
      throw this.tables.fail(error, "moving a finding to its rule's current id");
    }
  }

  async get(tenantId: string, ref: FindingRef): Promise<StoredFinding | undefined> {
    const entity = await this.read(tenantId, ref);
    return entity ? toStoredFinding(entity) : undefined;
  }

  /** The row of a finding; one stored under an earlier id of its rule (not yet moved by a scan) is found too. */
  private async read(tenantId: string, ref: FindingRef): Promise<TableEntityResult<FindingEntity> | undefined> {
    for (const ruleId of ruleIdAliases(ref.ruleId)) {
      const { partitionKey, rowKey } = findingLocation(tenantId, { ...ref, ruleId: ruleId as RuleId });
      try {
        return await this.table.getEntity<FindingEntity>(partitionKey, rowKey);
      } catch (error) {
        if (!isNotFound(error)) throw this.tables.fail(error, 'reading a finding');
      }
    }
    return undefined;
  }

  /**
   * Read-modify-write of one finding with optimistic concurrency: the write carries the ETag that
   * was read and, when another writer got there first (412), we read again and re-apply `mutate`.
   * For remediation and approval (status changes, their events). Returns the finding as written,
   * or as it is when `mutate` returns nothing; undefined if there is no such finding.
   */
  async update(tenantId: string, ref: FindingRef, mutate: (current: StoredFinding) => FindingChange | undefined): Promise<StoredFinding | undefined> {
    const found = await this.change(tenantId, ref, mutate);
    return found ? this.get(tenantId, ref) : undefined;
  }

  /** update without reading the finding back (a worker that changes it and moves on); false if there is no such finding. */
  async change(tenantId: string, ref: FindingRef, mutate: (current: StoredFinding) => FindingChange | undefined): Promise<boolean> {
    let found = true;
    await this.apply(tenantId, ref, (row, entity) => {
      if (!row || !entity) {
        found = false;
        return undefined;
      }
      const change = mutate(toStoredFinding(entity));
      return change ? planChange(row, change, tenantId, this.clock()) : undefined;
    });
    return found;
  }

  /**
   * Applies one transition outside any batch: read, plan, conditional write, retry on 412 / 409,
   * then the outbox steps. Used by `update` and as the fallback of `commit`. A writer can lose many
   * rounds in a row to a busy one, so the limit is generous; the jittered wait breaks lockstep.
   */
  async apply(tenantId: string, ref: FindingRef, plan: Planner, maxAttempts = 50): Promise<FindingRow | undefined> {
    for (let attempt = 1; ; attempt++) {
      const entity = await this.read(tenantId, ref);
      const row = entity ? rowFromEntity(entity) : undefined;
      if (row && row.pendingSeq > 0) {
        // Someone crashed (or is still working) between writing this row and its event: finish
        // their event first, or our transition would overwrite the only record of it.
        await this.outbox.deliverPending(row);
        continue;
      }
      const transition = plan(row, entity);
      if (!transition) return row;
      const write = findingWrite(tenantId, row, transition);
      try {
        const response = write.create
          ? await this.table.createEntity(write.patch)
          : await this.table.updateEntity(write.patch, 'Merge', { etag: row?.etag });
        return await this.outbox.deliver({ ...write.next, etag: response.etag ?? '' }, write.event);
      } catch (error) {
        const raced = isConditionFailed(error) || isConflict(error) || isNotFound(error);
        if (!raced) throw this.tables.fail(error, 'writing a finding');
        if (attempt >= maxAttempts) {
          throw this.tables.fail(error, `writing a finding after ${attempt} attempts (another writer keeps changing it)`);
        }
        await sleep(Math.min(500, 10 * 2 ** attempt) * Math.random());
      }
    }
  }

  /**
   * Writes many transitions the batched way, in the outbox's three ordered steps — rows (with their
   * event as a marker), then the event rows, then the cleared markers — so a crash anywhere leaves
   * either nothing or a marker that the next reader delivers. `alongside` rows are written with the
   * first step (a mailbox's configuration snapshot). Rows whose batch lost an ETag race are redone
   * one by one through `apply`. Returns each item's row after writing.
   */
  async commit(tenantId: string, items: CommitItem[], alongside: RowWrite[] = []): Promise<FindingRow[]> {
    const table = this.tables.names.findings;
    const rowWrites: RowWrite[] = items.map(({ write }) => ({
      table,
      action: write.create ? (['create', write.patch] as TransactionAction) : (['update', write.patch, 'Merge', { etag: write.next.etag || '*' }] as TransactionAction),
    }));
    const results = await this.writer.write([...rowWrites, ...alongside]);
    const failedAlongside = results.slice(rowWrites.length).find((result) => !result.ok);
    if (failedAlongside && !failedAlongside.ok) {
      throw this.tables.fail({ statusCode: failedAlongside.statusCode }, 'writing mailbox configuration rows');
    }

    const rows: FindingRow[] = new Array<FindingRow>(items.length);
    const retry: number[] = [];
    items.forEach((item, index) => {
      const result = results[index] as RowResult;
      if (result.ok) rows[index] = { ...item.write.next, etag: result.etag ?? '' };
      else retry.push(index);
    });

    const withEvents = items.flatMap((item, index) => (rows[index] && item.write.event ? [index] : []));
    const delivered = await this.outbox.deliverMany(withEvents.map((index) => ({ row: rows[index]!, event: items[index]!.write.event! })));
    withEvents.forEach((index, position) => {
      rows[index] = delivered[position]!;
    });

    if (retry.length > 0) {
      this.logger.warn('Findings changed by another writer during the scan; re-applying one by one', { tenantId, count: retry.length });
      for (const index of retry) {
        const item = items[index]!;
        const row = await this.apply(tenantId, item.ref, item.replan);
        if (row) rows[index] = row;
      }
    }
    return rows;
  }

  /**
   * Status and metadata changes without a drift event (a change queued, an approval requested),
   * batched: Merge writes carrying each finding's ETag, up to 100 per transaction. Returns the
   * findings whose write lost a race (412: the row changed since it was read), for the caller to
   * redo one by one through `update`.
   */
  async setStatusMany(
    tenantId: string,
    changes: Array<{ finding: StoredFinding; status: FindingStatus; metadata: Record<string, FindingValue> }>,
    at: Date = this.clock(),
  ): Promise<StoredFinding[]> {
    const table = this.tables.names.findings;
    const rows: RowWrite[] = changes.map(({ finding, status, metadata }) => ({
      table,
      action: ['update', { ...findingLocation(tenantId, finding), status, metadata: JSON.stringify(metadata), updatedAt: at.toISOString() }, 'Merge', { etag: finding.etag }],
    }));
    const results = await this.writer.write(rows);
    return changes.filter((_, index) => !results[index]?.ok).map((change) => change.finding);
  }

  /** Findings of a tenant, filtered; every value reaches the filter through the odata tag. */
  async list(tenantId: string, filter: FindingFilter, page: PageRequest): Promise<Page<StoredFinding>> {
    const { low, high } = tenantPartitionRange(tenantId);
    let query = odata`PartitionKey ge ${low} and PartitionKey lt ${high}`;
    if (filter.ruleId) query += ` and ${ruleIdFilter(filter.ruleId)}`;
    if (filter.severity) query += odata` and severity eq ${filter.severity}`;
    const status = filter.status ?? 'active';
    if (status === 'active') query += odata` and status ne ${'resolved'} and status ne ${'gone'}`;
    else if (status !== 'all') query += odata` and status eq ${status}`;
    if (filter.mailbox) {
      const mailbox = filter.mailbox.toLowerCase();
      query += odata` and (objectIdLower eq ${mailbox} or upnLower eq ${mailbox})`;
    }
    return readPage<FindingEntity, StoredFinding>(this.tables, this.tables.names.findings, query, page, toStoredFinding, 'reading findings');
  }

  /** A tenant's closed findings (resolved, gone) with when they closed, for retention. */
  closed(tenantId: string): AsyncGenerator<TableEntityResult<FindingEntity>> {
    return this.inTenant(tenantId, odata`(status eq ${'resolved'} or status eq ${'gone'})`, 'reading closed findings', ['PartitionKey', 'RowKey', 'status', 'closedAt']);
  }

  /** A tenant's active findings with the seq their current episode started at, for retention. */
  active(tenantId: string): AsyncGenerator<TableEntityResult<FindingEntity>> {
    return this.inTenant(tenantId, odata`status ne ${'resolved'} and status ne ${'gone'}`, 'reading active findings', [
      'PartitionKey',
      'RowKey',
      'findingKey',
      'episodeStartSeq',
    ]);
  }

  /** Rows of one tenant (its PartitionKey range), optionally filtered further, page by page. */
  private inTenant(tenantId: string, filter: string | undefined, doing: string, select: string[]): AsyncGenerator<TableEntityResult<FindingEntity>> {
    const { low, high } = tenantPartitionRange(tenantId);
    const range = odata`PartitionKey ge ${low} and PartitionKey lt ${high}`;
    return readAll<FindingEntity>(this.tables, this.tables.names.findings, filter ? `${range} and ${filter}` : range, doing, select);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
