import type { Settings } from '../config/settings';
import type { Clock } from '../domain/ports';
import { silentLogger, type Logger } from '../logging';
import { BatchWriter } from './batch-writer';
import { credentialFor } from './credential';
import { DriftEventRepository } from './events';
import { FindingRepository } from './findings';
import { MailboxRepository } from './mailboxes';
import { ScanRunRepository } from './scans';
import { StoreTables, type StoreConnection } from './tables';

/** The repositories of one storage account (and table prefix), sharing clients and a batch writer. */
export interface AuditStore {
  tables: StoreTables;
  writer: BatchWriter;
  scans: ScanRunRepository;
  findings: FindingRepository;
  events: DriftEventRepository;
  mailboxes: MailboxRepository;
}

export interface StoreOptions {
  logger?: Logger;
  clock?: Clock;
  /** Transactions in flight at once (default 8): Azure partitions take far more; Azurite is one thread. */
  concurrency?: number;
}

export function openStore(connection: StoreConnection, options: StoreOptions = {}): AuditStore {
  const tables = new StoreTables(connection);
  const writer = new BatchWriter(tables, options.concurrency ?? 8);
  const events = new DriftEventRepository(tables, writer);
  return {
    tables,
    writer,
    scans: new ScanRunRepository(tables),
    findings: new FindingRepository(tables, writer, events, options.logger ?? silentLogger, options.clock),
    events,
    mailboxes: new MailboxRepository(tables),
  };
}

/** The store the Functions app and the command line use: the AzureWebJobsStorage settings name the account. */
export function openStoreFromSettings(
  settings: Pick<Settings, 'storage'>,
  connection: Omit<StoreConnection, 'connectionString'> = {},
  options: StoreOptions = {},
): AuditStore {
  const { tables } = settings.storage;
  const credential = connection.credential ?? credentialFor(tables, settings.storage);
  return openStore({ ...connection, connectionString: tables, ...(credential ? { credential } : {}) }, options);
}
