import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { ValidationError } from '../errors';
import { isEndpointUrl, storageCredential } from './credential';
import { isConflict, storageError } from './errors';
import { monthOf } from './keys';

export type PipelinePolicies = NonNullable<TableServiceClientOptions['additionalPolicies']>;
export type PipelinePolicy = PipelinePolicies[number]['policy'];

export interface StoreConnection {
  /**
   * AzureWebJobsStorage: a connection string (`UseDevelopmentStorage=true`, account key or SAS), or
   * the table endpoint URL (`https://<account>.table.core.windows.net`) used with `credential`.
   */
  connectionString: string;
  /** For endpoint URLs: the identity to use (DefaultAzureCredential when omitted). */
  credential?: TokenCredential;
  /** Prepended to every table name so tests, demos and deployments can share an account. */
  tablePrefix?: string;
  /** Extra HTTP pipeline policies: operation counting (benchmark), fault injection (tests). */
  additionalPolicies?: PipelinePolicies;
  /** Retries of transient failures per request (default 3). Fail-fast callers lower it. */
  maxRetries?: number;
}

/**
 * Number of tables the per-object drift history is spread over.
 *
 * In Azure one table would serve as well: a single-partition range query is an index seek at any
 * table size. Azurite, which runs the demo, CI and the benchmark, answers every query by scanning
 * every entity of the table (LokiTableMetadataStore.queryTableEntities filters with a JS predicate),
 * so one mailbox's history costs time proportional to the events in its table. Measured with
 * 1,000,000 events (`npm run bench -- --only store`): 16 shards (~62,000 rows each) gave a p95 of
 * 113 ms; 64 shards keep a table near 16,000 rows. They cost nothing in Azure but table names, and
 * are created on first write, not at every start.
 */
export const EVENT_SHARDS = 64;

const TABLE_PREFIX = /^[A-Za-z][A-Za-z0-9]{0,39}$/;

/** Table names of one store; each base name is what DESIGN.md calls the table. */
export class TableNames {
  constructor(readonly prefix: string) {
    if (prefix !== '' && !TABLE_PREFIX.test(prefix)) {
      throw new ValidationError(
        `The table prefix "${prefix}" is not valid: use up to 40 letters and digits, starting with a letter.`,
        'store',
      );
    }
  }
  get scans(): string {
    return `${this.prefix}scans`;
  }
  get findings(): string {
    return `${this.prefix}findings`;
  }
  /** Configuration snapshots (the newest is the current state) and MailItemsAccessed refusals, per mailbox. */
  get mailboxes(): string {
    return `${this.prefix}mailboxes`;
  }
  /** UPN → object id. */
  get upnIndex(): string {
    return `${this.prefix}upnindex`;
  }
  /** Drift events by object (a mailbox's history), sharded: see EVENT_SHARDS. */
  eventShard(shard: number): string {
    return `${this.prefix}driftevents${String(shard).padStart(2, '0')}`;
  }
  /** Drift events by time, one table per UTC month: whole months are dropped by retention. */
  timeline(month: string): string {
    return `${this.prefix}timeline${month}`;
  }
  timelineFor(date: Date): string {
    return this.timeline(monthOf(date));
  }
  get timelinePrefix(): string {
    return `${this.prefix}timeline`;
  }
  /**
   * Tables created before a scan writes anything. Event shards and timeline months are created by
   * their first write (BatchWriter ensures every table it writes to); reads of a table not yet
   * created answer empty.
   */
  get fixed(): string[] {
    return [this.scans, this.findings, this.mailboxes, this.upnIndex];
  }
}

/**
 * Table clients of one store, created once and shared. Knows how to describe its endpoint without
 * the key, and creates tables on first use (creating an existing table is a cheap 409).
 */
export class StoreTables {
  readonly names: TableNames;
  readonly endpoint: string;
  private readonly clients = new Map<string, TableClient>();
  private readonly ensured = new Map<string, Promise<void>>();
  private service?: TableServiceClient;
  private resolvedCredential?: TokenCredential;
  private readonly options: TableServiceClientOptions;

  constructor(private readonly connection: StoreConnection) {
    this.names = new TableNames(connection.tablePrefix ?? '');
    this.endpoint = describeEndpoint(connection.connectionString);
    this.options = {
      allowInsecureConnection: this.endpoint.startsWith('http://'),
      additionalPolicies: connection.additionalPolicies,
      retryOptions: { maxRetries: connection.maxRetries ?? 3, retryDelayInMs: 200, maxRetryDelayInMs: 4000 },
    };
  }

  client(table: string): TableClient {
    let client = this.clients.get(table);
    if (!client) {
      client = isEndpointUrl(this.connection.connectionString)
        ? new TableClient(this.connection.connectionString.replace(/\/+$/, ''), table, this.credential(), this.options)
        : TableClient.fromConnectionString(this.connection.connectionString, table, this.options);
      this.clients.set(table, client);
    }
    return client;
  }

  serviceClient(): TableServiceClient {
    if (!this.service) {
      this.service = isEndpointUrl(this.connection.connectionString)
        ? new TableServiceClient(this.connection.connectionString.replace(/\/+$/, ''), this.credential(), this.options)
        : TableServiceClient.fromConnectionString(this.connection.connectionString, this.options);
    }
    return this.service;
  }

  /** Creates the table once per process; concurrent callers share the same attempt. */
  ensure(table: string): Promise<void> {
    let pending = this.ensured.get(table);
    if (!pending) {
      pending = this.client(table)
        .createTable()
        .catch((error: unknown) => {
          if (isConflict(error)) return;
          this.ensured.delete(table);
          throw storageError(error, `creating table ${table}`, this.endpoint);
        });
      this.ensured.set(table, pending);
    }
    return pending;
  }

  async ensureFixed(): Promise<void> {
    // The first one alone: if storage is unreachable we fail once, fast, not four times.
    const [first, ...rest] = this.names.fixed;
    if (first) await this.ensure(first);
    await Promise.all(rest.map((table) => this.ensure(table)));
  }

  /** Forget that a table exists (after deleting it), so a later write re-creates it. */
  forget(table: string): void {
    this.ensured.delete(table);
  }

  fail(error: unknown, doing: string): Error {
    return storageError(error, doing, this.endpoint);
  }

  /** One credential for every client of this store, so tokens are fetched and cached once. */
  private credential(): TokenCredential {
    this.resolvedCredential ??= this.connection.credential ?? storageCredential();
    return this.resolvedCredential;
  }
}

/** Where the tables live, for messages: scheme, host and account, never a key or signature. */
export function describeEndpoint(connectionString: string): string {
  const value = connectionString.trim();
  if (isEndpointUrl(value)) return value.replace(/\?.*$/, '').replace(/\/+$/, '');
  const parts = new Map<string, string>();
  for (const part of value.split(';')) {
    const index = part.indexOf('=');
    if (index > 0) parts.set(part.slice(0, index).trim().toLowerCase(), part.slice(index + 1).trim());
  }
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') return 'http://127.0.0.1:10002/devstoreaccount1';
  const tableEndpoint = parts.get('tableendpoint');
  if (tableEndpoint) return tableEndpoint.replace(/\?.*$/, '').replace(/\/+$/, '');
  const account = parts.get('accountname');
  if (account) {
    const protocol = parts.get('defaultendpointsprotocol') ?? 'https';
    const suffix = parts.get('endpointsuffix') ?? 'core.windows.net';
    return `${protocol}://${account}.table.${suffix}`;
  }
  return 'the configured storage account';
}

