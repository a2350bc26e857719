import type { BypassAssociation, MailboxAuditSnapshot, OrganizationAuditSnapshot, UserLicenceState } from './audit';
import type { QueueMessage } from '../queue/messages';
import type { Finding, ObjectType, RuleId } from './finding';
import type { CoverageTally, MailboxCoverage } from '../rules/coverage';
import type { ExceptedFinding } from '../rules/evaluator';

/**
 * Ports: what the use cases need from the world, declared below the adapters that provide it
 * (shared/store implements ScanRecorder), so a use case names no adapter and a test can hand it a
 * plain fake.
 */

/** Where "now" comes from: a parameter, so the night, the lifecycle and their tests agree on time. */
export type Clock = () => Date;

export type { ExceptedFinding };

export interface ScanRun {
  tenantId: string;
  /** Sortable newest-first id (inverted time), unique per scan. */
  scanId: string;
  startedAt: Date;
}

/** Everything one scan learned about one object. */
export interface ObservedObject {
  objectType: ObjectType;
  objectId: string;
  userPrincipalName: string;
  /** Mailboxes only: the audit configuration as read, kept in history when it changes. */
  mailbox?: MailboxAuditSnapshot;
  /** Mailboxes only: whether its reads are recorded, kept with the snapshot so history can answer "on date D". */
  coverage?: MailboxCoverage;
  findings: Finding[];
  excepted: ExceptedFinding[];
}

export interface ScanTotals {
  finishedAt: Date;
  mailboxes: number;
  bypassAssociations: number;
  findingsByRule: Partial<Record<RuleId, number>>;
  ruleErrors: number;
  apiCalls: number;
  throttledCalls: number;
  /** The tenant's coverage figure: in-scope mailboxes by verdict, overall and per logon type. */
  coverage: CoverageTally;
}

/** What the record changed: the demo and the Teams digest print it ("what changed last night"). */
export interface ScanChanges {
  opened: Finding[];
  resolved: Array<{ ruleId: RuleId; objectId: string; userPrincipalName: string; logonType?: string }>;
  gone: Array<{ ruleId: RuleId; objectId: string; userPrincipalName: string; logonType?: string }>;
  stillOpen: number;
}

/** What a new scan needs to know from earlier ones. */
export interface ScanMemory {
  /** Mailboxes (object ids) for which Exchange refused MailItemsAccessed when remediation tried. */
  mailItemsAccessedRefused: ReadonlySet<string>;
  /** The last completed scan's coverage figure, for "how it changed since the last scan". */
  previousCoverage?: CoverageTally;
}

/**
 * Where a scan leaves its record. The scan service calls begin, then observe for every object
 * (in any order, possibly buffered by the recorder), then complete — or fail. Only `complete`
 * may resolve findings: an interrupted or failed scan resolves nothing.
 */
export interface ScanRecorder {
  begin(run: ScanRun): Promise<ScanMemory>;
  observe(object: ObservedObject): Promise<void>;
  complete(totals: ScanTotals): Promise<ScanChanges>;
  fail(reason: string): Promise<void>;
}

/** The reads a scan makes; implemented over Graph + Exchange Online (services/tenant-reader.ts), faked in unit tests. */
export interface TenantReader {
  organization(): Promise<OrganizationAuditSnapshot>;
  /** Users holding any licence, with their Advanced Auditing plan resolved. `total` once Graph has counted them. */
  licensedUsers(onTotal?: (total: number) => void): AsyncIterable<UserLicenceState>;
  bypassAssociations(): AsyncIterable<BypassAssociation>;
  mailboxes(recipientTypeDetails: readonly string[]): AsyncIterable<MailboxAuditSnapshot>;
  /** API calls made and throttled answers seen so far (throttled calls were retried). */
  apiUsage(): { calls: number; throttled: number };
}


/**
 * The queue operations the services use. Over @azure/storage-queue here; a fake of this is enough
 * to unit-test the services. Queue names come from shared/queue/names.ts.
 */
export interface QueueGateway {
  /** Enqueues a message, base64-encoded as the Functions host expects; `delaySeconds` hides it that long. */
  send(queue: string, message: QueueMessage, options?: { delaySeconds?: number }): Promise<void>;
  /** Enqueues text exactly as given (already encoded): for moving a message to its poison queue. */
  sendRaw(queue: string, text: string): Promise<void>;
  receive(queue: string, max: number, visibilitySeconds: number): Promise<ReceivedQueueMessage[]>;
  delete(queue: string, message: ReceivedQueueMessage): Promise<void>;
  /** Makes a received message visible again after `seconds` (its next delivery counts as a retry). */
  release(queue: string, message: ReceivedQueueMessage, seconds: number): Promise<void>;
  /** Messages in the queue, visible or not (the service's approximate count). */
  approximateCount(queue: string): Promise<number>;
  ensure(queue: string): Promise<void>;
}

/** One message as received: the raw (base64) text and what the queue knows about its deliveries. */
export interface ReceivedQueueMessage {
  messageId: string;
  popReceipt: string;
  /** 1 on the first delivery. */
  dequeueCount: number;
  text: string;
  insertedOn?: Date;
}
