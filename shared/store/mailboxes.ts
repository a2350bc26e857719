import { odata, type TableEntityResult } from '@azure/data-tables';
import type { MailboxAuditSnapshot } from '../domain/audit';
import type { RowWrite } from './batch-writer';
import { isNotFound } from './errors';
import { bucketOf, bucketPartition, canonicalJson, checkKeyLength, digest, encodeKeyPart, invertedTime, objectKey, tenantPartitionRange } from './keys';
import type { StoredSnapshot } from './model';
import { readAll } from './paging';
import type { StoreTables } from './tables';

/**
 * Table `mailboxes`, PartitionKey = `tenant|bucket`, three kinds of rows told apart by RowKey prefix:
 *
 * - `c|objectId` — the mailbox's current state: digest of its audit configuration, when that
 *   configuration was first read, and a MailItemsAccessed refusal learned by remediation. A scan
 *   loads these (one range read per tenant, ~100 bytes each) and writes a snapshot only when the
 *   digest differs, so an unchanged night writes nothing here.
 * - `s|objectId|invertedTime` — a configuration snapshot, kept only when the configuration changed.
 *   Same partition as `c|objectId`, so snapshot and digest are written in one transaction: after a
 *   crash they are both there or both missing, never a digest without its snapshot. Inverted time
 *   makes "the configuration in force at T" the first row at or after `s|objectId|inv(T)`.
 * - `u|upn` (partition of bucket(upn)) — UPN → object id, so history can be asked by UPN with a
 *   point read. Written when a mailbox is first seen or renamed; an old UPN keeps pointing to the
 *   object, which is what an investigator holding an old UPN wants.
 */
export type MailboxStateEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  objectId: string;
  upn: string;
  upnLower: string;
  configHash: string;
  snapshotAt: string;
  miaRefusedAt?: string;
  miaRefusedReason?: string;
}

type SnapshotEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  objectId: string;
  upn: string;
  at: string;
  scanId: string;
  configHash: string;
  configuration: string;
}

type UpnIndexEntity = {
  partitionKey: string;
  rowKey: string;
  objectId: string;
  upn: string;
}

/** What a scan keeps per mailbox between begin and complete. */
export interface MailboxState {
  objectId: string;
  upnLower: string;
  configHash: string;
  mailItemsAccessedRefused: boolean;
}

/** The audit configuration's digest: lists compared as sets, since Exchange does not promise an order. */
export function configHashOf(snapshot: MailboxAuditSnapshot): string {
  const sorted = (list: readonly string[] | undefined) => (list ? [...list].sort() : null);
  return digest(
    canonicalJson({
      ...snapshot,
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

  /** Every mailbox's current state for a tenant, compact, page by page. */
  async *states(tenantId: string): AsyncGenerator<MailboxState> {
    const { low, high } = tenantPartitionRange(tenantId);
    for await (const entity of readAll<MailboxStateEntity>(
      this.tables,
      this.tables.names.mailboxes,
      odata`PartitionKey ge ${low} and PartitionKey lt ${high} and RowKey ge ${'c|'} and RowKey lt ${'c}'}`,
      'reading mailbox configuration digests',
      ['objectId', 'upnLower', 'configHash', 'miaRefusedAt'],
    )) {
      yield {
        objectId: entity.objectId,
        upnLower: entity.upnLower ?? '',
        configHash: entity.configHash ?? '',
        mailItemsAccessedRefused: Boolean(entity.miaRefusedAt),
      };
    }
  }

  /** The snapshot row and the current-state row of a changed configuration: one transaction. */
  snapshotRows(tenantId: string, snapshot: MailboxAuditSnapshot, configHash: string, at: Date, scanId: string): RowWrite[] {
    const partitionKey = this.partitionOf(tenantId, snapshot.objectId);
    const object = objectKey(snapshot.objectId);
    const group = `snapshot:${object}`;
    const row: SnapshotEntity = {
      partitionKey,
      rowKey: checkKeyLength(`s|${object}|${invertedTime(at)}`, 'The mailbox id'),
      tenantId,
      objectId: snapshot.objectId,
      upn: snapshot.userPrincipalName,
      at: at.toISOString(),
      scanId,
      configHash,
      configuration: JSON.stringify(snapshot),
    };
    const current: Omit<MailboxStateEntity, 'miaRefusedAt' | 'miaRefusedReason'> = {
      partitionKey,
      rowKey: `c|${object}`,
      tenantId,
      objectId: snapshot.objectId,
      upn: snapshot.userPrincipalName,
      upnLower: snapshot.userPrincipalName.toLowerCase(),
      configHash,
      snapshotAt: at.toISOString(),
    };
    return [
      { table: this.tables.names.mailboxes, group, action: ['upsert', row, 'Replace'] },
      // Merge: keeps a refusal that remediation recorded on the same row.
      { table: this.tables.names.mailboxes, group, action: ['upsert', current, 'Merge'] },
    ];
  }

  upnIndexRow(tenantId: string, upn: string, objectId: string): RowWrite {
    const upnLower = upn.toLowerCase();
    const row: UpnIndexEntity = {
      partitionKey: bucketPartition(tenantId, bucketOf(upnLower)),
      rowKey: checkKeyLength(`u|${encodeKeyPart(upnLower)}`, 'The UPN'),
      objectId,
      upn,
    };
    return { table: this.tables.names.mailboxes, action: ['upsert', row, 'Replace'] };
  }

  /** The object id a UPN belongs (or belonged) to. */
  async resolveUpn(tenantId: string, upn: string): Promise<string | undefined> {
    const upnLower = upn.toLowerCase();
    try {
      const row = await this.table.getEntity<UpnIndexEntity>(bucketPartition(tenantId, bucketOf(upnLower)), `u|${encodeKeyPart(upnLower)}`);
      return row.objectId;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.tables.fail(error, 'looking up a UPN');
    }
  }

  async current(tenantId: string, objectId: string): Promise<TableEntityResult<MailboxStateEntity> | undefined> {
    try {
      return await this.table.getEntity<MailboxStateEntity>(this.partitionOf(tenantId, objectId), `c|${objectKey(objectId)}`);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.tables.fail(error, 'reading a mailbox');
    }
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
   * Remediation learned that Exchange refuses MailItemsAccessed for this mailbox (licence reaches
   * it only through a group). The next scan's memory carries it to the licence rule.
   */
  async recordMailItemsAccessedRefusal(tenantId: string, objectId: string, refusal: { at: Date; reason: string; userPrincipalName?: string }): Promise<void> {
    await this.mergeState(tenantId, objectId, {
      miaRefusedAt: refusal.at.toISOString(),
      miaRefusedReason: refusal.reason.slice(0, 2000),
      ...(refusal.userPrincipalName ? { upn: refusal.userPrincipalName, upnLower: refusal.userPrincipalName.toLowerCase() } : {}),
    });
  }

  /** The refusal no longer holds (licence assigned directly, plan toggled). */
  async clearMailItemsAccessedRefusal(tenantId: string, objectId: string): Promise<void> {
    await this.mergeState(tenantId, objectId, { miaRefusedAt: '', miaRefusedReason: '' });
  }

  private async mergeState(tenantId: string, objectId: string, values: Partial<MailboxStateEntity>): Promise<void> {
    try {
      await this.tables.ensure(this.tables.names.mailboxes);
      await this.table.upsertEntity(
        { partitionKey: this.partitionOf(tenantId, objectId), rowKey: `c|${objectKey(objectId)}`, tenantId, objectId, ...values },
        'Merge',
      );
    } catch (error) {
      throw this.tables.fail(error, 'recording a MailItemsAccessed refusal');
    }
  }

  /** Snapshot rows of every tenant, partition by partition, newest first per mailbox (retention). */
  snapshotKeys(): AsyncGenerator<TableEntityResult<SnapshotEntity>> {
    return readAll<SnapshotEntity>(
      this.tables,
      this.tables.names.mailboxes,
      odata`RowKey ge ${'s|'} and RowKey lt ${'s}'}`,
      'reading configuration snapshots',
      ['PartitionKey', 'RowKey', 'objectId', 'at'],
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
  };
}
