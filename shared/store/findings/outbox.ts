import type { DriftEvent, Transition } from '../../lifecycle';
import type { BatchWriter, RowWrite } from '../batch-writer';
import { isConditionFailed, isNotFound } from '../errors';
import { deserializeEvent, serializeEvent, type DriftEventRepository } from '../events';
import type { StoreTables } from '../tables';
import { findingLocation, patchOf, type FindingPatch, type FindingRow } from './entity';

/**
 * The outbox of drift events. Table Storage has no transaction across tables, and a finding's
 * events live in other tables than its row, so a transition is written in three steps: the row,
 * carrying the event it implies as a marker (`pendingSeq`, `pendingEvent`); then the event rows;
 * then the cleared marker. Whoever finds a marker left behind by a crash writes the same event
 * again — same keys, so no duplicate — before changing the row. A crash anywhere therefore leaves
 * either no trace of a transition, or the row with its marker, or the whole transition.
 */

/** A transition as the write of its row: the columns it sets, carrying its event as the marker. */
export interface FindingWrite {
  create: boolean;
  patch: FindingPatch;
  event?: DriftEvent;
  /** The row once written (with the ETag it was read with, until the write answers). */
  next: FindingRow;
}

/**
 * The row write of a lifecycle transition. An existing row is written where it is (a row stored
 * under a rule's earlier id included); a new one where the finding's key puts it.
 */
export function findingWrite(tenantId: string, current: FindingRow | undefined, transition: Transition): FindingWrite {
  const location = current ? { partitionKey: current.partitionKey, rowKey: current.rowKey } : findingLocation(tenantId, transition.next);
  const { event } = transition;
  const marker = event ? { pendingSeq: event.seq, pendingEvent: serializeEvent(event) } : { pendingSeq: 0, pendingEvent: '' };
  return {
    create: transition.create,
    patch: { ...patchOf(tenantId, location, transition.update, transition.create), ...(event ? marker : {}) },
    ...(event ? { event } : {}),
    next: { ...transition.next, ...location, ...marker, etag: current?.etag ?? '' },
  };
}

/** The outbox's last two steps (event rows, cleared marker), one row at a time or batched. */
export class FindingOutbox {
  constructor(
    private readonly tables: StoreTables,
    private readonly writer: BatchWriter,
    private readonly events: DriftEventRepository,
  ) {}

  /** Writes a written row's event, then clears its marker. */
  async deliver(row: FindingRow, event: DriftEvent | undefined): Promise<FindingRow> {
    if (!event) return row;
    await this.events.append([event]);
    return this.clearOne(row);
  }

  /** Re-writes the event a row's marker names, then clears the marker (if nobody changed the row since). */
  async deliverPending(row: FindingRow): Promise<FindingRow> {
    if (row.pendingSeq === 0 || !row.pendingEvent) return row;
    return this.deliver(row, deserializeEvent(row.pendingEvent));
  }

  /**
   * deliverPending for many rows, batched: what a scan's begin finds after a crash can be a whole
   * round of markers (tens of thousands), too many to finish one request at a time.
   */
  async deliverPendingMany(rows: FindingRow[]): Promise<FindingRow[]> {
    const pending = rows.filter((row) => row.pendingSeq > 0 && row.pendingEvent);
    const delivered = await this.deliverMany(
      pending.map((row) => ({ row, event: deserializeEvent(row.pendingEvent) })),
      'writing drift events left by an interrupted run',
    );
    const byRow = new Map(pending.map((row, index) => [row, delivered[index]!]));
    return rows.map((row) => byRow.get(row) ?? row);
  }

  /** Steps two and three for rows already written with their marker, in transactions. */
  async deliverMany(deliveries: Array<{ row: FindingRow; event: DriftEvent }>, doing = 'writing drift events'): Promise<FindingRow[]> {
    const eventResults = await this.writer.write(deliveries.flatMap(({ event }) => this.events.rowsFor(event)));
    const failed = eventResults.find((result) => !result.ok);
    if (failed && !failed.ok) throw this.tables.fail({ statusCode: failed.statusCode }, doing);

    const clears: RowWrite[] = deliveries.map(({ row }) => ({ table: this.tables.names.findings, action: ['update', clearedMarker(row), 'Merge', { etag: row.etag }] }));
    const results = await this.writer.write(clears);
    const delivered: FindingRow[] = [];
    for (const [index, { row }] of deliveries.entries()) {
      const result = results[index];
      // A marker we could not clear in a batch (another writer changed a row of that batch) is
      // cleared one by one; where the row really changed, the other writer has taken over our event.
      delivered.push(result?.ok ? { ...row, pendingSeq: 0, pendingEvent: '', etag: result.etag ?? row.etag } : await this.clearOne(row));
    }
    return delivered;
  }

  /** Clears a delivered marker if the row is still as we wrote it (412: its new writer has taken over). */
  private async clearOne(row: FindingRow): Promise<FindingRow> {
    try {
      const response = await this.tables.client(this.tables.names.findings).updateEntity(clearedMarker(row), 'Merge', { etag: row.etag });
      return { ...row, pendingSeq: 0, pendingEvent: '', etag: response.etag ?? row.etag };
    } catch (error) {
      if (isConditionFailed(error) || isNotFound(error)) return row;
      throw this.tables.fail(error, 'clearing a delivered event marker');
    }
  }
}

function clearedMarker(row: FindingRow): FindingPatch {
  return { partitionKey: row.partitionKey, rowKey: row.rowKey, pendingSeq: 0, pendingEvent: '' };
}
