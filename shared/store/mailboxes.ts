import { odata, type TableEntityResult } from '@azure/data-tables';
import type { MailboxAuditSnapshot } from '../domain/audit';
import type { MailboxCoverage } from '../rules/coverage';
import type { RowWrite } from './batch-writer';
import { isNotFound } from './errors';
import { bucketOf, bucketPartition, canonicalJson, checkKeyLength, digest, encodeKeyPart, invertedTime, objectKey, tenantPartitionRange } from './keys';
import type { StoredSnapshot } from './model';
import { readAll } from './paging';
import type { StoreTables } from './tables';

/**
 * Table `mailboxes`, PartitionKey = `tenant|bucket(objectId)`:
 *
 * - `s|objectId|invertedTime` — the mailbox's audit configuration, written only when its digest
 *   changed. The newest snapshot is also the mailbox's current state: a scan loads the digests of
 *   the newest snapshots (one projected range read per tenant) and writes a snapshot only where the
 *   digest moved, so an unchanged night writes nothing here. One row per change, nothing to keep in
 *   step with it, so a crash cannot leave a digest without its snapshot. Inverted time makes "the
 *   configuration in force at T" the first row at or after `s|objectId|inv(T)`.
 * - `r|objectId` — a MailItemsAccessed refusal learned by remediation (rare; read at begin).
 *
 * Table `upnindex`, PartitionKey = `tenant|bucket(upn)`, RowKey = upn: UPN → object id, so history
 * can be asked by UPN with a point read. Written (before the snapshot) when a mailbox is first seen
 * or renamed; an old UPN keeps pointing to the object, which is what an investigator holding an old
 * UPN wants. Its own table keeps the snapshot table, which a scan reads whole, to one row per change.
 */
type SnapshotEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  objectId: string;
  upn: string;
  upnLower: string;
  at: string;
  scanId: string;
  configHash: string;
  configuration: string;
  /** MailboxCoverage as JSON (rows written before coverage existed have none). */
  coverage?: string;
};

type RefusalEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  objectId: string;
  upn: string;
  at: string;
  reason: string;
};

type UpnIndexEntity = {
  partitionKey: string;
  rowKey: string;
  objectId: string;
  upn: string;
};

/** What a scan keeps per mailbox between begin and complete. */
export interface MailboxState {
  objectId: string;
  upnLower: string;
  configHash: string;
  mailItemsAccessedRefused: boolean;
}

/** A mailbox as stored now: its newest snapshot's identity and digest, and any recorded refusal. */
export interface MailboxCurrent {
  objectId: string;
  upn?: string;
  configHash?: string;
  /** When the configuration now in force was first read. */
  snapshotAt?: string;
  miaRefusedAt?: string;
  miaRefusedReason?: string;
}

/**
 * The digest of what a snapshot records: the audit configuration (lists compared as sets, since
 * Exchange does not promise an order) and the coverage verdict, so a verdict that changes without
 * the mailbox changing (org auditing or ingestion switched) is recorded too.
 */
export function configHashOf(snapshot: MailboxAuditSnapshot, coverage?: MailboxCoverage): string {
  const sorted = (list: readonly string[] | undefined) => (list ? [...list].sort() : null);
  return digest(
    canonicalJson({
      ...snapshot,
      ...(coverage ? { coverage } : {}),
      auditActions: Object.fromEntries(Object.entries(snapshot.auditActions).map(([type, actions]) => [type, sorted(actions)])),
      defaultAuditSet: sorted(snapshot.defaultAuditSet),
      persistedCapabilities: sorted(snapshot.persistedCapabilities),
    }),
  );
}

export class MailboxRepository {
  constructor(private readonly tables: StoreTables) {}

  private get table() {
    return this.tables.client(this.tables.names.mailboxes);
  }

  partitionOf(tenantId: string, objectId: string): string {
    return bucketPartition(tenantId, bucketOf(objectId.toLowerCase()));
  }

  /** Every mailbox's current state for a tenant: the digest of its newest snapshot, and any refusal. */
  async *states(tenantId: string): AsyncGenerator<MailboxState> {
    const { low, high } = tenantPartitionRange(tenantId);
    const refused = new Map<string, string>();
    for await (const row of readAll<RefusalEntity>(
      this.tables,
      this.tables.names.mailboxes,
      odata`PartitionKey ge ${low} and PartitionKey lt ${high} and RowKey ge ${'r|'} and RowKey lt ${'r}'}`,
      'reading MailItemsAccessed refusals',
      ['objectId'],
    )) {
      refused.set(row.objectId.toLowerCase(), row.objectId);
    }
    // Key order: per partition, per mailbox, newest snapshot first; the first row of a mailbox is its current state.
    let previous = '';
    for await (const row of readAll<SnapshotEntity>(
      this.tables,
      this.tables.names.mailboxes,
      odata`PartitionKey ge ${low} and PartitionKey lt ${high} and RowKey ge ${'s|'} and RowKey lt ${'s}'}`,
      'reading mailbox configuration digests',
      ['RowKey', 'objectId', 'upnLower', 'configHash'],
    )) {
      const id = row.objectId.toLowerCase();
      if (id === previous) continue;
      previous = id;
      yield { objectId: row.objectId, upnLower: row.upnLower ?? '', configHash: row.configHash ?? '', mailItemsAccessedRefused: refused.delete(id) };
    }
    // Refusals recorded for mailboxes no scan has stored yet.
    for (const objectId of refused.values()) yield { objectId, upnLower: '', configHash: '', mailItemsAccessedRefused: true };
  }

  /** The row a changed configuration adds. */
  snapshotRow(tenantId: string, snapshot: MailboxAuditSnapshot, configHash: string, at: Date, scanId: string, coverage?: MailboxCoverage): RowWrite {
    const row: SnapshotEntity = {
      partitionKey: this.partitionOf(tenantId, snapshot.objectId),
      rowKey: checkKeyLength(`s|${objectKey(snapshot.objectId)}|${invertedTime(at)}`, 'The mailbox id'),
      tenantId,
      objectId: snapshot.objectId,
      upn: snapshot.userPrincipalName,
      upnLower: snapshot.userPrincipalName.toLowerCase(),
      at: at.toISOString(),
      scanId,
      configHash,
      configuration: JSON.stringify(snapshot),
      ...(coverage ? { coverage: JSON.stringify(coverage) } : {}),
    };
    return { table: this.tables.names.mailboxes, action: ['upsert', row, 'Replace'] };
  }

  upnIndexRow(tenantId: string, upn: string, objectId: string): RowWrite {
    const upnLower = upn.toLowerCase();
    const row: UpnIndexEntity = {
      partitionKey: bucketPartition(tenantId, bucketOf(upnLower)),
      rowKey: checkKeyLength(encodeKeyPart(upnLower), 'The UPN'),
      objectId,
      upn,
    };
    return { table: this.tables.names.upnIndex, action: ['upsert', row, 'Replace'] };
  }

  /** The object id a UPN belongs (or belonged) to. */
  async resolveUpn(tenantId: string, upn: string): Promise<string | undefined> {
    const upnLower = upn.toLowerCase();
    try {
      const row = await this.tables
        .client(this.tables.names.upnIndex)
        .getEntity<UpnIndexEntity>(bucketPartition(tenantId, bucketOf(upnLower)), encodeKeyPart(upnLower));
      return row.objectId;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.tables.fail(error, 'looking up a UPN');
    }
  }

  /** The mailbox as stored now (undefined: no scan recorded it and no refusal is recorded). */
  async current(tenantId: string, objectId: string): Promise<MailboxCurrent | undefined> {
    const [snapshot, refusal] = await Promise.all([this.latest(tenantId, objectId), this.refusal(tenantId, objectId)]);
    if (!snapshot && !refusal) return undefined;
    return {
      objectId: snapshot?.objectId ?? refusal?.objectId ?? objectId,
      ...(snapshot ? { upn: snapshot.userPrincipalName, configHash: snapshot.configHash, snapshotAt: snapshot.at.toISOString() } : {}),
      ...(refusal ? { miaRefusedAt: refusal.at, miaRefusedReason: refusal.reason } : {}),
    };
  }

  private async refusal(tenantId: string, objectId: string): Promise<RefusalEntity | undefined> {
    try {
      return await this.table.getEntity<RefusalEntity>(this.partitionOf(tenantId, objectId), `r|${objectKey(objectId)}`);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.tables.fail(error, 'reading a MailItemsAccessed refusal');
    }
  }

  /** The newest snapshot: the mailbox as the last scan that saw a change recorded it. */
  latest(tenantId: string, objectId: string): Promise<StoredSnapshot | undefined> {
    return this.configurationAt(tenantId, objectId, new Date(8_640_000_000_000_000));
  }

  /** The snapshot in force at `at`: the newest one taken at or before it. */
  async configurationAt(tenantId: string, objectId: string, at: Date): Promise<StoredSnapshot | undefined> {
    const object = objectKey(objectId);
    const low = `s|${object}|${invertedTime(at)}`;
    const high = `s|${object}~`;
    try {
      const pages = this.table
        .listEntities<SnapshotEntity>({
          queryOptions: { filter: odata`PartitionKey eq ${this.partitionOf(tenantId, objectId)} and RowKey ge ${low} and RowKey lt ${high}` },
        })
        .byPage({ maxPageSize: 1 });
      for await (const page of pages) {
        const first = page[0];
        if (first) return toSnapshot(first);
      }
      return undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.tables.fail(error, "reading a mailbox's configuration");
    }
  }

  /**
   * Remediation learned that Exchange refuses MailItemsAccessed for this mailbox (the licence reaches
   * it only through a group). The next scan's memory carries it to the licence rule.
   */
  async recordMailItemsAccessedRefusal(tenantId: string, objectId: string, refusal: { at: Date; reason: string; userPrincipalName?: string }): Promise<void> {
    const row: RefusalEntity = {
      partitionKey: this.partitionOf(tenantId, objectId),
      rowKey: `r|${objectKey(objectId)}`,
      tenantId,
      objectId,
      upn: refusal.userPrincipalName ?? '',
      at: refusal.at.toISOString(),
      reason: refusal.reason.slice(0, 2000),
    };
    try {
      await this.tables.ensure(this.tables.names.mailboxes);
      await this.table.upsertEntity(row, 'Replace');
    } catch (error) {
      throw this.tables.fail(error, 'recording a MailItemsAccessed refusal');
    }
  }

  /** The refusal no longer holds (licence assigned directly, plan toggled). */
  async clearMailItemsAccessedRefusal(tenantId: string, objectId: string): Promise<void> {
    try {
      await this.table.deleteEntity(this.partitionOf(tenantId, objectId), `r|${objectKey(objectId)}`);
    } catch (error) {
      if (!isNotFound(error)) throw this.tables.fail(error, 'clearing a MailItemsAccessed refusal');
    }
  }

  /** A tenant's snapshot rows, partition by partition, newest first per mailbox (retention). */
  snapshotKeys(tenantId: string): AsyncGenerator<TableEntityResult<SnapshotEntity>> {
    const { low, high } = tenantPartitionRange(tenantId);
    return readAll<SnapshotEntity>(
      this.tables,
      this.tables.names.mailboxes,
      odata`PartitionKey ge ${low} and PartitionKey lt ${high} and RowKey ge ${'s|'} and RowKey lt ${'s}'}`,
      'reading configuration snapshots',
      ['PartitionKey', 'RowKey', 'at'],
    );
  }
}

function toSnapshot(entity: TableEntityResult<SnapshotEntity>): StoredSnapshot {
  return {
    tenantId: entity.tenantId,
    objectId: entity.objectId,
    userPrincipalName: entity.upn,
    at: new Date(entity.at),
    scanId: entity.scanId,
    configHash: entity.configHash,
    configuration: JSON.parse(entity.configuration) as unknown,
    ...(entity.coverage ? { coverage: JSON.parse(entity.coverage) as MailboxCoverage } : {}),
  };
}
