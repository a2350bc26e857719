import type { LogonType, MailboxAuditSnapshot } from '../../shared/domain/audit';
import type { Finding } from '../../shared/domain/finding';
import { addToTally, emptyCoverageTally, mailboxCoverage, type MailboxCoverage } from '../../shared/rules/coverage';
import type { ObservedObject, ScanChanges, ScanRun, ScanTotals } from '../../shared/domain/ports';
import { invertedTime } from '../../shared/store/keys';
import { openStore, type AuditStore, type StoreOptions } from '../../shared/store/open';
import { TableScanRecorder, type TableScanRecorderOptions } from '../../shared/store/recorder';
import type { PipelinePolicy, StoreConnection } from '../../shared/store/tables';
import { testStorageConnectionString, uniqueName } from '../support/storage';

export const TENANT = '8f0e3f6a-1d2b-4c5d-9e8f-0a1b2c3d4e5f';
export const OTHER_TENANT = '11111111-2222-3333-4444-555555555555';

export function newStore(prefix = uniqueName('t'), extra: Partial<StoreConnection> = {}, options: StoreOptions = {}): AuditStore {
  return openStore({ connectionString: testStorageConnectionString(), tablePrefix: prefix, ...extra }, options);
}

export function objectIdOf(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

export interface MailboxSpec {
  index: number;
  auditEnabled?: boolean;
  /** Logon types missing MailItemsAccessed. */
  missing?: LogonType[];
  ageLimitDays?: number;
  upn?: string;
}

const FULL = ['MailItemsAccessed', 'Update', 'MoveToDeletedItems', 'SoftDelete', 'HardDelete'];

export function snapshotOf(spec: MailboxSpec): MailboxAuditSnapshot {
  const objectId = objectIdOf(spec.index);
  const upn = spec.upn ?? `user${spec.index}@contoso.example`;
  const actions = (type: LogonType) => (spec.missing?.includes(type) ? FULL.filter((action) => action !== 'MailItemsAccessed') : FULL);
  return {
    objectId,
    exchangeGuid: `ex-${objectId}`,
    userPrincipalName: upn,
    primarySmtpAddress: upn,
    recipientTypeDetails: 'UserMailbox',
    auditEnabled: spec.auditEnabled ?? true,
    auditLogAgeLimitDays: spec.ageLimitDays ?? 180,
    auditActions: { Owner: actions('Owner'), Delegate: actions('Delegate'), Admin: actions('Admin') },
    defaultAuditSet: ['Owner', 'Delegate', 'Admin'],
  };
}

/** What the rules would say about a mailbox spec (enough for storage tests). */
export function findingsOf(spec: MailboxSpec): Finding[] {
  const snapshot = snapshotOf(spec);
  const base = { objectType: 'mailbox' as const, objectId: snapshot.objectId, userPrincipalName: snapshot.userPrincipalName };
  const findings: Finding[] = [];
  if (spec.auditEnabled === false) findings.push({ ...base, ruleId: 'mailbox-audit-disabled', severity: 'low', expected: true, actual: false });
  for (const logonType of spec.missing ?? []) {
    findings.push({ ...base, ruleId: 'mailitemsaccessed-missing', logonType, severity: 'high', expected: 'MailItemsAccessed', actual: null });
  }
  if (spec.ageLimitDays !== undefined && spec.ageLimitDays < 180) {
    findings.push({ ...base, ruleId: 'mailbox-audit-log-age-short', severity: 'low', expected: '>= 180 days', actual: spec.ageLimitDays });
  }
  return findings;
}

/** A coverage verdict with one state for all three logon types. */
export function uniformCoverage(state: MailboxCoverage['verdict'], reasons: MailboxCoverage['byLogonType']['Owner']['reasons'] = []): MailboxCoverage {
  const entry = { state, reasons };
  return { verdict: state, byLogonType: { Owner: entry, Delegate: entry, Admin: entry } };
}

/**
 * A mailbox as a scan observes it. Its coverage verdict is the one its findings give (excepted ones
 * included, with org auditing on), as the scan computes it; pass a verdict to override it, or null
 * for an observation without one (as recorded before verdicts existed).
 */
export function observed(spec: MailboxSpec, exceptRules: Array<Finding['ruleId']> = [], coverage?: MailboxCoverage | null): ObservedObject {
  const findings = findingsOf(spec);
  const verdict = coverage === undefined ? mailboxCoverage({ mailboxFindings: findings, organizationFindings: [], ownAccountBypassed: false }) : coverage;
  return {
    objectType: 'mailbox',
    objectId: objectIdOf(spec.index),
    userPrincipalName: spec.upn ?? `user${spec.index}@contoso.example`,
    mailbox: snapshotOf(spec),
    ...(verdict ? { coverage: verdict } : {}),
    findings: findings.filter((finding) => !exceptRules.includes(finding.ruleId)),
    excepted: findings
      .filter((finding) => exceptRules.includes(finding.ruleId))
      .map((finding) => ({ finding, exception: { object: finding.objectId, rule: finding.ruleId, reason: 'legal hold mailbox', expires: '2099-01-01' } })),
  };
}

export function runAt(date: Date, tenantId = TENANT): ScanRun {
  return { tenantId, scanId: invertedTime(date), startedAt: date };
}

export function totalsFor(objects: ObservedObject[], finishedAt: Date): ScanTotals {
  const findingsByRule: ScanTotals['findingsByRule'] = {};
  for (const object of objects) for (const finding of object.findings) findingsByRule[finding.ruleId] = (findingsByRule[finding.ruleId] ?? 0) + 1;
  const coverage = emptyCoverageTally();
  for (const object of objects) if (object.coverage) addToTally(coverage, object.coverage);
  return {
    finishedAt,
    mailboxes: objects.filter((object) => object.objectType === 'mailbox').length,
    bypassAssociations: objects.filter((object) => object.objectType === 'bypass-association').length,
    findingsByRule,
    ruleErrors: 0,
    apiCalls: objects.length,
    throttledCalls: 0,
    coverage,
  };
}

export async function scan(
  store: AuditStore,
  objects: ObservedObject[],
  at: Date,
  options: TableScanRecorderOptions & { tenantId?: string } = {},
): Promise<ScanChanges> {
  const recorder = new TableScanRecorder(store, options);
  await recorder.begin(runAt(at, options.tenantId));
  for (const object of objects) await recorder.observe(object);
  return recorder.complete(totalsFor(objects, new Date(at.getTime() + 60_000)));
}

export function day(n: number): Date {
  return new Date(Date.UTC(2026, 0, 1) + n * 86_400_000);
}

/**
 * A pipeline policy that throws (as a dying process would stop) at the nth write request and every
 * one after; `arm` sets n and restarts the count. Table creation is not counted (a store creates
 * its tables once per process).
 */
export function crashAfterWrites(writes: number): { policy: PipelinePolicy; count: () => number; arm: (writes: number) => void } {
  let seen = 0;
  let limit = writes;
  return {
    count: () => seen,
    arm: (next) => {
      seen = 0;
      limit = next;
    },
    policy: {
      name: 'crash-after-writes',
      sendRequest: async (request, next) => {
        const isWrite = request.method !== 'GET' && !/\/Tables(\(|$|\?)/.test(request.url);
        if (isWrite) {
          seen++;
          if (seen > limit) throw new CrashError(`injected crash before write ${seen}`);
        }
        return next(request);
      },
    },
  };
}

export class CrashError extends Error {
  override name = 'CrashError';
}
