import type { TransactionAction } from '@azure/data-tables';
import { isConditionFailed, isConflict, isNotFound } from './errors';
import type { StoreTables } from './tables';

/** One row write, and which rows must land in the same transaction as it. */
export interface RowWrite {
  table: string;
  action: TransactionAction;
  /**
   * Writes with the same group (in the same table and partition) are kept in one entity-group
   * transaction, so they succeed or fail together (a snapshot and its mailbox's current row).
   */
  group?: string;
}

export type RowResult = { ok: true; etag?: string } | { ok: false; statusCode: number };

/** Max entities in one entity-group transaction (Azure's limit). */
export const MAX_BATCH = 100;

/**
 * Writes rows as entity-group transactions: grouped by table and partition, at most 100 per
 * transaction, an entity at most once per transaction, `concurrency` transactions in flight.
 * Returns one result per input row, in order. A transaction refused because a condition did not
 * hold (412 ETag, 409 exists, 404 missing) is reported per row (`ok: false`) so the caller can
 * redo those rows one by one; any other failure is thrown as a storage ServiceError.
 */
export class BatchWriter {
  constructor(
    private readonly tables: StoreTables,
    private readonly concurrency = 8,
  ) {}

  async write(rows: RowWrite[]): Promise<RowResult[]> {
    const results: RowResult[] = new Array<RowResult>(rows.length);
    const chunks = chunkRows(rows);
    const tablesUsed = new Set(rows.map((row) => row.table));
    await Promise.all([...tablesUsed].map((table) => this.tables.ensure(table)));
    await runLimited(chunks, this.concurrency, async (chunk) => {
      const first = rows[chunk[0]!]!;
      const actions = chunk.map((index) => rows[index]!.action);
      try {
        const response = await this.tables.client(first.table).submitTransaction(actions);
        chunk.forEach((index, position) => {
          results[index] = { ok: true, etag: response.subResponses[position]?.etag };
        });
      } catch (error) {
        if (isConditionFailed(error) || isConflict(error) || isNotFound(error)) {
          const statusCode = (error as { statusCode: number }).statusCode;
          for (const index of chunk) results[index] = { ok: false, statusCode };
          return;
        }
        throw this.tables.fail(error, `writing ${actions.length} rows to ${first.table}`);
      }
    });
    return results;
  }
}

function partitionOf(action: TransactionAction): string {
  return action[1].partitionKey ?? '';
}

function rowKeyOf(action: TransactionAction): string {
  return action[1].rowKey ?? '';
}

/** Splits rows into transactions (arrays of row indexes), respecting partitions, groups and the limit. */
export function chunkRows(rows: RowWrite[]): number[][] {
  // Units are whole groups (or single rows); a unit never spans two transactions.
  const units = new Map<string, number[]>();
  rows.forEach((row, index) => {
    const partition = `${row.table}\u0000${partitionOf(row.action)}`;
    const unitKey = row.group === undefined ? `${partition}\u0000#${index}` : `${partition}\u0000g${row.group}`;
    const unit = units.get(unitKey);
    if (unit) unit.push(index);
    else units.set(unitKey, [index]);
  });
  const byPartition = new Map<string, number[][]>();
  for (const [unitKey, unit] of units) {
    const partition = unitKey.slice(0, unitKey.lastIndexOf('\u0000'));
    const list = byPartition.get(partition);
    if (list) list.push(unit);
    else byPartition.set(partition, [unit]);
  }
  const chunks: number[][] = [];
  for (const unitsOfPartition of byPartition.values()) {
    let current: number[] = [];
    let keys = new Set<string>();
    for (const unit of unitsOfPartition) {
      const unitKeys = unit.map((index) => rowKeyOf(rows[index]!.action));
      const clash = unitKeys.some((key) => keys.has(key));
      if (current.length > 0 && (clash || current.length + unit.length > MAX_BATCH)) {
        chunks.push(current);
        current = [];
        keys = new Set();
      }
      current.push(...unit);
      unitKeys.forEach((key) => keys.add(key));
    }
    if (current.length > 0) chunks.push(current);
  }
  return chunks;
}

/** Runs `work` over items with at most `limit` in flight; the first failure rejects (others finish). */
export async function runLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        if (!failed) {
          failed = true;
          failure = error;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failure;
}
