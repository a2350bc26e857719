import { odata, type TableEntityResult } from '@azure/data-tables';
import type { AuditPolicy } from '../config/policy';
import type { LogonType } from '../domain/audit';
import { findingKey } from '../domain/finding';
import { ValidationError } from '../errors';
import { silentLogger, type Logger } from '../logging';
import type { RowWrite } from './batch-writer';
import { isConditionFailed, isNotFound } from './errors';
import { byObjectLocation, type EventEntity } from './events';
import { parseFindingKey } from './findings';
import { invertedHour, invertedTime, monthOf, tenantPartitionRange } from './keys';
import { readAll } from './paging';
import type { AuditStore } from './store';

export interface PruneResult {
  tenantId: string;
  cutoff: Date;
  events: number;
  snapshots: number;
  findings: number;
  tablesDropped: string[];
}

const DAY_MS = 86_400_000;

/** What deleting an event needs: its two keys, and what says whether an open finding still needs it. */
const EVENT_COLUMNS = ['PartitionKey', 'RowKey', 'tenantId', 'eventId', 'seq', 'objectId', 'at', 'ruleId', 'logonType'];

/**
 * Deletes one tenant's history older than its policy's `historyRetentionDays`. Never deleted:
 * active findings, the events of their current episode (their history must explain why they are
 * open), and for each mailbox the snapshot that was in force at the cutoff (which is also its
 * latest if nothing changed since) — "the configuration on date D" stays answerable for every D
 * inside the retention. A month's timeline table is dropped once no tenant has a row left in it.
 *
 * Order makes it safe to stop anywhere and run again: the by-object copy of an event is deleted
 * before its timeline row, and the timeline is what the next run reads to find what is left.
 */
export async function pruneHistory(
  store: AuditStore,
  tenantId: string,
  policy: Pick<AuditPolicy, 'historyRetentionDays'>,
  now: Date,
  logger: Logger = silentLogger,
): Promise<PruneResult> {
  const retentionDays = policy.historyRetentionDays;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new ValidationError(`historyRetentionDays must be a whole number of days ≥ 1 (got ${retentionDays}).`, 'policy');
  }
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const result: PruneResult = { tenantId, cutoff, events: 0, snapshots: 0, findings: 0, tablesDropped: [] };

  await pruneEvents(store, tenantId, cutoff, result);
  result.snapshots = await pruneSnapshots(store, tenantId, cutoff);
  result.findings = await pruneClosedFindings(store, tenantId, cutoff);

  logger.info('History pruned', {
    tenantId,
    cutoff: cutoff.toISOString(),
    events: result.events,
    snapshots: result.snapshots,
    findings: result.findings,
    tablesDropped: result.tablesDropped.length,
  });
  return result;
}

/** The tenant's events before the cutoff, month by month, except those an active finding still needs. */
async function pruneEvents(store: AuditStore, tenantId: string, cutoff: Date, result: PruneResult): Promise<void> {
  // Keys as the current pack names them: a finding and its events may be stored under a rule's earlier id.
  const currentKey = (key: string) => findingKey(parseFindingKey(key));
  const protectedFrom = new Map<string, number>();
  for await (const finding of store.findings.active(tenantId)) protectedFrom.set(currentKey(finding.findingKey), finding.episodeStartSeq);
  const isProtected = (event: TableEntityResult<EventEntity>) => {
    const from = protectedFrom.get(currentKey(event.eventId.slice(0, event.eventId.lastIndexOf('|'))));
    return from !== undefined && event.seq >= from;
  };

  // Timeline partitions are `tenant|invertedHour`: the tenant's hours up to the cutoff are one range.
  const { low, high } = tenantPartitionRange(tenantId);
  const older = odata`PartitionKey ge ${`${low}${invertedHour(cutoff)}`} and PartitionKey lt ${high} and RowKey ge ${invertedTime(new Date(cutoff.getTime() - 1))}`;
  for (const table of await timelineTables(store)) {
    const month = table.slice(store.tables.names.timelinePrefix.length);
    if (month > monthOf(cutoff)) continue;
    let kept = 0;
    let batch: Array<TableEntityResult<EventEntity>> = [];
    const flush = async () => {
      result.events += await deleteEvents(store, table, batch);
      batch = [];
    };
    for await (const event of readAll<EventEntity>(store.tables, table, older, 'reading old drift events', EVENT_COLUMNS)) {
      if (isProtected(event)) kept++;
      else batch.push(event);
      if (batch.length >= 1000) await flush();
    }
    await flush();
    const monthEnded = month < monthOf(cutoff);
    if (monthEnded && kept === 0 && (await isEmpty(store, table))) {
      try {
        await store.tables.client(table).deleteTable();
        store.tables.forget(table);
        result.tablesDropped.push(table);
      } catch (error) {
        if (!isNotFound(error)) throw store.tables.fail(error, `dropping ${table}`);
      }
    }
  }
}

async function timelineTables(store: AuditStore): Promise<string[]> {
  const prefix = store.tables.names.timelinePrefix;
  const names: string[] = [];
  try {
    for await (const table of store.tables.serviceClient().listTables({ queryOptions: { filter: odata`TableName ge ${`${prefix}0`} and TableName lt ${`${prefix}:`}` } })) {
      if (table.name && /^\d{6}$/.test(table.name.slice(prefix.length))) names.push(table.name);
    }
  } catch (error) {
    throw store.tables.fail(error, 'listing timeline tables');
  }
  return names.sort();
}

async function isEmpty(store: AuditStore, table: string): Promise<boolean> {
  for await (const _ of readAll(store.tables, table, '', 'checking a timeline table', ['RowKey'])) return false;
  return true;
}

async function deleteEvents(store: AuditStore, table: string, events: Array<TableEntityResult<EventEntity>>): Promise<number> {
  if (events.length === 0) return 0;
  const byObject: RowWrite[] = events.map((event) => {
    const location = byObjectLocation(store.tables, {
      tenantId: event.tenantId,
      objectId: event.objectId,
      at: new Date(event.at),
      ruleId: event.ruleId,
      ...(event.logonType ? { logonType: event.logonType as LogonType } : {}),
      seq: event.seq,
    });
    return { table: location.table, action: ['delete', { partitionKey: location.partitionKey, rowKey: location.rowKey }] };
  });
  await deleteRows(store, byObject);
  return deleteRows(
    store,
    events.map((event) => ({ table, action: ['delete', { partitionKey: event.partitionKey, rowKey: event.rowKey }] })),
  );
}

/**
 * Keeps, per mailbox, every snapshot since the cutoff and the one in force at it — so its latest
 * snapshot always stays — and deletes the rest.
 */
async function pruneSnapshots(store: AuditStore, tenantId: string, cutoff: Date): Promise<number> {
  const stale: RowWrite[] = [];
  let deleted = 0;
  let mailbox = '';
  let keptOneBefore = false;
  // Rows arrive in key order: per partition, per mailbox (`s|objectId|invertedTime`), newest first.
  for await (const row of store.mailboxes.snapshotKeys(tenantId)) {
    const id = `${row.partitionKey}|${row.rowKey.slice(0, row.rowKey.lastIndexOf('|'))}`;
    if (id !== mailbox) {
      mailbox = id;
      keptOneBefore = false;
    }
    if (row.at >= cutoff.toISOString()) continue;
    if (!keptOneBefore) {
      keptOneBefore = true;
      continue;
    }
    stale.push({ table: store.tables.names.mailboxes, action: ['delete', { partitionKey: row.partitionKey, rowKey: row.rowKey }] });
    if (stale.length >= 1000) deleted += await deleteRows(store, stale.splice(0));
  }
  return deleted + (await deleteRows(store, stale));
}

/** Findings closed before the cutoff; one by one, with the ETag read (transactions cannot carry one), so a finding re-opened meanwhile stays. */
async function pruneClosedFindings(store: AuditStore, tenantId: string, cutoff: Date): Promise<number> {
  let deleted = 0;
  for await (const finding of store.findings.closed(tenantId)) {
    if (!finding.closedAt || finding.closedAt >= cutoff.toISOString()) continue;
    try {
      await store.tables.client(store.tables.names.findings).deleteEntity(finding.partitionKey, finding.rowKey, { etag: finding.etag });
      deleted++;
    } catch (error) {
      if (!isNotFound(error) && !isConditionFailed(error)) throw store.tables.fail(error, 'deleting a closed finding');
    }
  }
  return deleted;
}

/** Deletes in transactions; a transaction refused because a row was already gone is redone row by row. */
async function deleteRows(store: AuditStore, rows: RowWrite[]): Promise<number> {
  if (rows.length === 0) return 0;
  const results = await store.writer.write(rows);
  let deleted = 0;
  for (const [index, result] of results.entries()) {
    if (result.ok) {
      deleted++;
      continue;
    }
    const row = rows[index]!;
    const entity = row.action[1] as { partitionKey: string; rowKey: string };
    try {
      await store.tables.client(row.table).deleteEntity(entity.partitionKey, entity.rowKey);
      deleted++;
    } catch (error) {
      if (!isNotFound(error)) throw store.tables.fail(error, `deleting from ${row.table}`);
    }
  }
  return deleted;
}
