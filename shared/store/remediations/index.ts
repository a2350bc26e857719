import type { BatchWriter } from '../batch-writer';
import type { StoreTables } from '../tables';
import { BlastRadiusBudget } from './budget';
import { DeadLetterLog, type DeadLetter } from './dead-letters';
import { RemediationLedger } from './ledger';
import { remediationsTable } from './table';

export { budgetDayOf, BlastRadiusBudget } from './budget';
export { DeadLetterLog, type DeadLetter } from './dead-letters';
export { RemediationLedger, type ClaimResult } from './ledger';
export {
  FINISHED_REMEDIATION_STATUSES,
  REMEDIATION_STATUSES,
  type QueuedMeta,
  type RemediationRecord,
  type RemediationStatus,
} from './ledger-record';

/**
 * The remediations table as one repository (see table.ts for its three kinds of rows): the
 * ledger of changes, the blast-radius budget and the dead letters, each its own module.
 */
export class RemediationRepository {
  readonly ledger: RemediationLedger;
  readonly budget: BlastRadiusBudget;
  readonly deadLetterLog: DeadLetterLog;

  constructor(
    private readonly tables: StoreTables,
    writer: BatchWriter,
  ) {
    this.ledger = new RemediationLedger(tables, writer);
    this.budget = new BlastRadiusBudget(tables, this.ledger);
    this.deadLetterLog = new DeadLetterLog(tables);
  }

  get tableName(): string {
    return remediationsTable(this.tables);
  }

  get(...args: Parameters<RemediationLedger['get']>) {
    return this.ledger.get(...args);
  }
  markQueued(...args: Parameters<RemediationLedger['markQueued']>) {
    return this.ledger.markQueued(...args);
  }
  markQueuedMany(...args: Parameters<RemediationLedger['markQueuedMany']>) {
    return this.ledger.markQueuedMany(...args);
  }
  claim(...args: Parameters<RemediationLedger['claim']>) {
    return this.ledger.claim(...args);
  }
  markApplied(...args: Parameters<RemediationLedger['markApplied']>) {
    return this.ledger.markApplied(...args);
  }
  finish(...args: Parameters<RemediationLedger['finish']>) {
    return this.ledger.finish(...args);
  }
  finishFrom(...args: Parameters<RemediationLedger['finishFrom']>) {
    return this.ledger.finishFrom(...args);
  }
  list(tenantId: string) {
    return this.ledger.list(tenantId);
  }
  forFinding(...args: Parameters<RemediationLedger['forFinding']>) {
    return this.ledger.forFinding(...args);
  }
  directLicences(tenantId: string) {
    return this.ledger.directLicences(tenantId);
  }
  countByStatus(tenantId: string) {
    return this.ledger.countByStatus(tenantId);
  }

  usedAutoChanges(...args: Parameters<BlastRadiusBudget['usedAutoChanges']>) {
    return this.budget.usedAutoChanges(...args);
  }
  reserveAutoChanges(...args: Parameters<BlastRadiusBudget['reserveAutoChanges']>) {
    return this.budget.reserveAutoChanges(...args);
  }
  releaseBudget(...args: Parameters<BlastRadiusBudget['releaseBudget']>) {
    return this.budget.releaseBudget(...args);
  }

  recordDeadLetter(letter: DeadLetter) {
    return this.deadLetterLog.record(letter);
  }
  deadLetters(month: string) {
    return this.deadLetterLog.inMonth(month);
  }
}
