import { odata, type TableEntityResult } from '@azure/data-tables';
import type { LogonType } from '../domain/audit';
import { canonicalRuleId, type ObjectType, type RuleId, type Severity } from '../domain/finding';
import { BatchWriter, type RowWrite } from './batch-writer';
import { bucketOf, bucketPartition, invertedHour, invertedTime, objectKey, ruleIdFilter, tenantKey } from './keys';
import type { DriftEvent, DriftEventType } from '../lifecycle';
import { readPage, type Page, type PageRequest } from './paging';
import { EVENT_SHARDS, type StoreTables } from './tables';

/**
 * Drift events, append-only, stored twice because Table Storage has no secondary index and the two
 * questions people ask need different keys:
 *
 * - by object, tables `driftevents00..63` (see EVENT_SHARDS): PartitionKey =
 *   `tenant|bucket(objectId)`, RowKey = `objectId|invertedTime|ruleId|logonType|seq`. One mailbox's
 *   history is one range read inside one partition, newest first; a night's events batch up to 100
 *   to a transaction per bucket.
 * - by time, tables `timeline<yyyymm>`: PartitionKey = `tenant|invertedHour`, RowKey =
 *   `invertedTime|objectId|...`. "What changed between these dates" is one range read per month,
 *   newest first; retention drops whole months. Hour partitions, not days or months: a partition
 *   is the unit an insert is checked against (Azurite scans it for every upsert; Azure serves
 *   ~2,000 entities/s per partition), and approvals, remediations and verifications land all day
 *   long. A scan's own events share its start time, so one night still lands in one partition.
 *
 * Both RowKeys are derived only from the event's persisted fields (object, time, rule, logon type,
 * seq), so writing an event again — after a crash, by a second worker — overwrites the same two
 * rows instead of adding a duplicate.
 */
export type EventEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  eventId: string;
  seq: number;
  type: DriftEventType;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  upn: string;
  upnLower: string;
  logonType: string;
  severity: Severity;
  at: string;
  actor: string;
  reason: string;
  details: string;
  scanId: string;
}

export interface EventWindow {
  from: Date;
  to: Date;
}

export interface TimelineFilter extends EventWindow {
  ruleId?: RuleId;
  type?: DriftEventType;
}

export function eventShardOf(objectId: string): number {
  return parseInt(bucketOf(objectId.toLowerCase()), 16) % EVENT_SHARDS;
}

function eventSuffix(event: Pick<DriftEvent, 'ruleId' | 'logonType' | 'seq'>): string {
  return `${event.ruleId}|${event.logonType ?? '-'}|${String(event.seq).padStart(6, '0')}`;
}

export function byObjectLocation(tables: StoreTables, event: Pick<DriftEvent, 'tenantId' | 'objectId' | 'at' | 'ruleId' | 'logonType' | 'seq'>) {
  const object = objectKey(event.objectId);
  return {
    table: tables.names.eventShard(eventShardOf(event.objectId)),
    partitionKey: bucketPartition(event.tenantId, bucketOf(event.objectId.toLowerCase())),
    rowKey: `${object}|${invertedTime(event.at)}|${eventSuffix(event)}`,
  };
}

export function timelineLocation(tables: StoreTables, event: Pick<DriftEvent, 'tenantId' | 'objectId' | 'at' | 'ruleId' | 'logonType' | 'seq'>) {
  return {
    table: tables.names.timelineFor(event.at),
    partitionKey: `${tenantKey(event.tenantId)}|${invertedHour(event.at)}`,
    rowKey: `${invertedTime(event.at)}|${objectKey(event.objectId)}|${eventSuffix(event)}`,
  };
}

function toEntityBody(event: DriftEvent): Omit<EventEntity, 'partitionKey' | 'rowKey'> {
  return {
    tenantId: event.tenantId,
    eventId: event.eventId,
    seq: event.seq,
    type: event.type,
    ruleId: event.ruleId,
    objectType: event.objectType,
    objectId: event.objectId,
    upn: event.userPrincipalName,
    upnLower: event.userPrincipalName.toLowerCase(),
    logonType: event.logonType ?? '',
    severity: event.severity,
    at: event.at.toISOString(),
    actor: event.actor,
    reason: event.reason ?? '',
    details: JSON.stringify(event.details),
    scanId: event.scanId ?? '',
  };
}

export function toDriftEvent(entity: TableEntityResult<EventEntity>): DriftEvent {
  return {
    tenantId: entity.tenantId,
    eventId: entity.eventId,
    seq: entity.seq,
    type: entity.type,
    ruleId: (canonicalRuleId(entity.ruleId) ?? entity.ruleId),
    objectType: entity.objectType,
    objectId: entity.objectId,
    userPrincipalName: entity.upn,
    ...(entity.logonType ? { logonType: entity.logonType as LogonType } : {}),
    severity: entity.severity,
    at: new Date(entity.at),
    actor: entity.actor,
    ...(entity.reason ? { reason: entity.reason } : {}),
    details: entity.details ? (JSON.parse(entity.details) as Record<string, unknown>) : {},
    ...(entity.scanId ? { scanId: entity.scanId } : {}),
  };
}

/** Events round-trip through JSON (the finding row's outbox), so dates arrive as strings. */
export function serializeEvent(event: DriftEvent): string {
  return JSON.stringify({ ...event, at: event.at.toISOString() });
}

export function deserializeEvent(text: string): DriftEvent {
  const parsed = JSON.parse(text) as DriftEvent & { at: string };
  return { ...parsed, at: new Date(parsed.at) };
}

export class DriftEventRepository {
  constructor(
    private readonly tables: StoreTables,
    private readonly writer: BatchWriter,
  ) {}

  /** The two rows of each event, for callers that batch them with other writes. */
  rowsFor(event: DriftEvent): RowWrite[] {
    const body = toEntityBody(event);
    const byObject = byObjectLocation(this.tables, event);
    const timeline = timelineLocation(this.tables, event);
    return [
      { table: byObject.table, action: ['upsert', { partitionKey: byObject.partitionKey, rowKey: byObject.rowKey, ...body }, 'Replace'] },
      { table: timeline.table, action: ['upsert', { partitionKey: timeline.partitionKey, rowKey: timeline.rowKey, ...body }, 'Replace'] },
    ];
  }

  /**
   * Appends events (both copies). Idempotent: the keys come from the events' own fields. Events
   * that belong to a finding should go through FindingRepository (its outbox makes them
   * crash-safe); this is for bulk loads and for events about no finding.
   */
  async append(events: DriftEvent[]): Promise<void> {
    const results = await this.writer.write(events.flatMap((event) => this.rowsFor(event)));
    const failed = results.find((result) => !result.ok);
    if (failed && !failed.ok) throw this.tables.fail({ statusCode: failed.statusCode }, 'appending drift events');
  }

  /** One object's events between two instants, newest first. */
  async forObject(tenantId: string, objectId: string, window: EventWindow, page: PageRequest): Promise<Page<DriftEvent>> {
    const object = objectKey(objectId);
    const partitionKey = bucketPartition(tenantId, bucketOf(objectId.toLowerCase()));
    const low = `${object}|${invertedTime(window.to)}`;
    const high = `${object}|${invertedTime(window.from)}~`;
    return readPage<EventEntity, DriftEvent>(
      this.tables,
      this.tables.names.eventShard(eventShardOf(objectId)),
      odata`PartitionKey eq ${partitionKey} and RowKey ge ${low} and RowKey lt ${high}`,
      page,
      toDriftEvent,
      "reading a mailbox's drift history",
    );
  }

  /** One month's events of a tenant between two instants, newest first, optionally filtered. */
  async inMonth(tenantId: string, month: string, filter: TimelineFilter, page: PageRequest): Promise<Page<DriftEvent>> {
    const tenant = tenantKey(tenantId);
    // The window's hours (newest first), trimmed to the instant in its first and last hour by RowKey.
    const firstHour = `${tenant}|${invertedHour(filter.to)}`;
    const lastHour = `${tenant}|${invertedHour(filter.from)}`;
    const low = invertedTime(filter.to);
    const high = `${invertedTime(filter.from)}~`;
    let query = odata`PartitionKey ge ${firstHour} and PartitionKey le ${lastHour} and RowKey ge ${low} and RowKey lt ${high}`;
    if (filter.ruleId) query += ` and ${ruleIdFilter(filter.ruleId)}`;
    if (filter.type) query += odata` and type eq ${filter.type}`;
    return readPage<EventEntity, DriftEvent>(this.tables, this.tables.names.timeline(month), query, page, toDriftEvent, 'reading drift events');
  }
}
