import type { PolicyException } from '../config/policy';
import type { MailboxAuditSnapshot } from '../domain/audit';
import type { Finding } from '../domain/finding';
import type { ObservedObject, ScanChanges, ScanMemory, ScanRecorder, ScanRun, ScanTotals } from '../domain/ports';
import { ServiceError } from '../errors';
import { redactSecrets } from '../errors/redact';
import { isActiveStatus, planClose, planObservation, type Transition, type TransitionContext } from '../lifecycle';
import { silentLogger, type Logger } from '../logging';
import type { MailboxCoverage } from '../rules/coverage';
import type { RowWrite } from './batch-writer';
import { findingLocation, findingWrite, type CommitItem, type FindingRow, type Planner } from './findings';
import { configHashOf, type MailboxState } from './mailboxes';
import type { StoredScanRun } from './model';
import type { AuditStore } from './store';

export interface TableScanRecorderOptions {
  logger?: Logger;
  /**
   * Rows buffered before observe writes them (and makes its caller wait): bounds memory (~40 MB at
   * the default) and gives back-pressure. Larger rounds fill transactions better: 25,000 rows over
   * 1,024 buckets is ~25 rows per transaction on a first scan.
   */
  flushRows?: number;
  /** How long begin waits for storage before failing the scan (default 30 s). */
  beginTimeoutMs?: number;
}

type Closed = ScanChanges['resolved'][number];

/**
 * Records a scan in Table Storage (see ScanRecorder for the contract).
 *
 * Writes follow change. begin reads what the tenant looked like — every finding's compact state and
 * the digest of every mailbox's newest snapshot, ~100 bytes each — and observe writes only differences:
 * findings that open, change or move into/out of an exception, and configurations whose digest
 * moved. Nothing is written for a finding that is simply still there: its lastSeen is the start of
 * the last completed scan (a completed scan that had not seen it would have closed it), so storing
 * it nightly would be 100,000 writes that say nothing.
 *
 * Convergence after a crash. Every change is a row transition that carries its drift event as an
 * outbox marker, written before the event rows; event ids are `findingKey|seq` with seq taken from
 * the row, and event RowKeys come only from persisted fields. So a scan killed anywhere leaves
 * either no trace of a transition, or the row with its marker (begin of the next scan writes the
 * same event again and clears it), or the complete transition. A re-run over the same tenant then
 * finds the rows already in their new state and plans only what is missing; resolution happens
 * only in complete, after every observation is written, so an interrupted scan resolves nothing.
 * A snapshot is one row whose key holds the scan's start, and the next scan compares against the
 * newest one, so a configuration change is recorded exactly once however often the scan re-runs.
 */
export class TableScanRecorder implements ScanRecorder {
  private readonly logger: Logger;
  private readonly flushRows: number;
  private readonly beginTimeoutMs: number;

  private run?: ScanRun;
  private ctx?: TransitionContext;
  private previousCompleted?: StoredScanRun;
  /** By RowKey (object|rule|logonType, case-normalised). */
  private readonly findings = new Map<string, FindingRow>();
  /** By lower-case object id. */
  private readonly mailboxes = new Map<string, MailboxState>();
  private readonly seenObjects = new Set<string>();
  private readonly seenFindings = new Set<string>();
  private readonly openedThisScan = new Set<string>();
  private readonly opened: Finding[] = [];

  private items: CommitItem[] = [];
  private snapshotRows: RowWrite[] = [];
  private upnRows: RowWrite[] = [];
  private queuedFindings = new Set<string>();
  private queuedMailboxes = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: AuditStore,
    options: TableScanRecorderOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.flushRows = Math.max(1, options.flushRows ?? 25_000);
    this.beginTimeoutMs = options.beginTimeoutMs ?? 30_000;
  }

  async begin(run: ScanRun): Promise<ScanMemory> {
    this.run = run;
    this.ctx = { tenantId: run.tenantId, at: run.startedAt, actor: `scan:${run.scanId}`, scanId: run.scanId };
    await this.withTimeout(this.store.tables.ensureFixed(), 'preparing the tables');
    await this.store.scans.begin(run);

    // A run still marked running from before this one died without complete or fail.
    for (const earlier of await this.store.scans.withStatus(run.tenantId, 'running')) {
      if (earlier.scanId !== run.scanId && earlier.startedAt.getTime() <= run.startedAt.getTime()) {
        await this.store.scans.setStatus(run.tenantId, earlier.scanId, 'interrupted', 'did not complete (process stopped or crashed)');
      }
    }
    this.previousCompleted = await this.store.scans.lastCompleted(run.tenantId);

    const unfinished: FindingRow[] = [];
    for await (const stored of this.store.findings.states(run.tenantId)) {
      // A row written under a rule's earlier id moves to the current id's key first, so the finding
      // continues (same first-seen, same history) rather than being resolved and detected anew.
      const state = this.store.findings.storedUnderEarlierId(run.tenantId, stored)
        ? await this.store.findings.moveToCurrentRuleId(run.tenantId, stored)
        : stored;
      this.findings.set(state.rowKey, state);
      if (state.pendingSeq > 0) unfinished.push(state);
    }
    if (unfinished.length > 0) {
      this.logger.warn('Writing drift events an interrupted run left unwritten', { tenantId: run.tenantId, count: unfinished.length });
      for (const state of await this.store.findings.outbox.deliverPendingMany(unfinished)) this.findings.set(state.rowKey, state);
    }

    const refused = new Set<string>();
    for await (const mailbox of this.store.mailboxes.states(run.tenantId)) {
      this.mailboxes.set(mailbox.objectId.toLowerCase(), mailbox);
      if (mailbox.mailItemsAccessedRefused) refused.add(mailbox.objectId);
    }
    this.logger.info('Scan record opened', {
      tenantId: run.tenantId,
      scanId: run.scanId,
      findings: this.findings.size,
      mailboxes: this.mailboxes.size,
    });
    return {
      mailItemsAccessedRefused: refused,
      ...(this.previousCompleted?.coverage ? { previousCoverage: this.previousCompleted.coverage } : {}),
    };
  }

  async observe(object: ObservedObject): Promise<void> {
    this.begun();
    this.seenObjects.add(object.objectId.toLowerCase());
    for (const finding of object.findings) await this.planFinding(finding, undefined);
    for (const { finding, exception } of object.excepted) await this.planFinding(finding, exception);
    if (object.mailbox) await this.planSnapshot(object.mailbox, object.coverage);
    if (this.buffered() >= this.flushRows) await this.flush();
  }

  async complete(totals: ScanTotals): Promise<ScanChanges> {
    const { run, ctx } = this.begun();
    await this.flush();

    const resolved: Closed[] = [];
    const gone: Closed[] = [];
    const active = [...this.findings.values()].filter((state) => isActiveStatus(state.status));
    const unseen = active.filter((state) => !this.seenFindings.has(state.rowKey));
    const guardGone = this.seenObjects.size === 0 && unseen.length > 0;
    if (guardGone) {
      // A scan that saw no object at all more likely lost its enumeration than its tenant.
      this.logger.warn('The scan observed no objects; leaving existing findings open', { tenantId: run.tenantId, scanId: run.scanId });
    }
    for (const state of guardGone ? [] : unseen) {
      const kind = this.seenObjects.has(state.objectId.toLowerCase()) ? 'resolved' : 'gone';
      const lastSeen = this.lastSeenOf(state);
      const transition = planClose(state, kind, lastSeen, ctx);
      if (!transition) continue;
      const ref = { ruleId: state.ruleId, objectId: state.objectId, ...(state.logonType ? { logonType: state.logonType } : {}) };
      this.queue(ref, state, transition, (current) => planClose(current, kind, lastSeen, ctx));
      (kind === 'resolved' ? resolved : gone).push({ ...ref, userPrincipalName: state.upn });
      if (this.buffered() >= this.flushRows) await this.flush();
    }
    await this.flush();

    let stillOpen = 0;
    for (const state of this.findings.values()) {
      if (isActiveStatus(state.status) && state.status !== 'excepted' && !this.openedThisScan.has(state.rowKey)) stillOpen++;
    }
    const changes: ScanChanges = { opened: this.opened, resolved, gone, stillOpen };
    await this.store.scans.complete(run, totals, { opened: this.opened.length, resolved: resolved.length, gone: gone.length, stillOpen });
    this.logger.info('Scan recorded', { tenantId: run.tenantId, scanId: run.scanId, opened: this.opened.length, resolved: resolved.length, gone: gone.length, stillOpen });
    return changes;
  }

  async fail(reason: string): Promise<void> {
    const { run } = this.begun();
    try {
      // What was observed is true even if the scan did not finish: keep it (it resolves nothing).
      await this.flush();
    } catch (error) {
      this.logger.warn('Could not write the last observations of a failed scan', { tenantId: run.tenantId, scanId: run.scanId, error: (error as Error).message });
    }
    await this.store.scans.setStatus(run.tenantId, run.scanId, 'failed', redactSecrets(reason), new Date());
  }

  private async planFinding(finding: Finding, exception: PolicyException | undefined): Promise<void> {
    const { ctx } = this.begun();
    const { rowKey } = findingLocation(ctx.tenantId, finding);
    this.seenObjects.add(finding.objectId.toLowerCase());
    // The same finding twice in one round would put one entity twice in a transaction: write the first.
    if (this.queuedFindings.has(rowKey)) await this.flush();
    this.seenFindings.add(rowKey);
    const current = this.findings.get(rowKey);
    const transition = planObservation(current, finding, exception, ctx);
    if (!transition) return;
    if (transition.event?.type === 'detected') {
      this.opened.push(finding);
      this.openedThisScan.add(rowKey);
      // A bypass association is named by its Identity (an account name, often one with no mailbox):
      // index that name so `history --mailbox svc-backup` finds what the finding shows. Only when a
      // finding opens, so an unchanged night writes nothing here.
      if (finding.objectType === 'bypass-association' && finding.userPrincipalName !== finding.objectId) {
        this.upnRows.push(this.store.mailboxes.upnIndexRow(ctx.tenantId, finding.userPrincipalName, finding.objectId));
      }
    }
    this.queue(finding, current, transition, (state) => planObservation(state, finding, exception, ctx));
  }

  private async planSnapshot(snapshot: MailboxAuditSnapshot, coverage: MailboxCoverage | undefined): Promise<void> {
    const { run } = this.begun();
    const id = snapshot.objectId.toLowerCase();
    const configHash = configHashOf(snapshot, coverage);
    const current = this.mailboxes.get(id);
    if (current && current.configHash === configHash) return;
    if (this.queuedMailboxes.has(id)) await this.flush();
    const upnLower = snapshot.userPrincipalName.toLowerCase();
    if (!current || current.upnLower !== upnLower) this.upnRows.push(this.store.mailboxes.upnIndexRow(run.tenantId, snapshot.userPrincipalName, snapshot.objectId));
    this.snapshotRows.push(this.store.mailboxes.snapshotRow(run.tenantId, snapshot, configHash, run.startedAt, run.scanId, coverage));
    this.queuedMailboxes.add(id);
    this.mailboxes.set(id, { objectId: snapshot.objectId, upnLower, configHash, mailItemsAccessedRefused: current?.mailItemsAccessedRefused ?? false });
  }

  /** Buffers a transition's row write for the next round; the scan's memory holds the row as it will be. */
  private queue(ref: CommitItem['ref'], current: FindingRow | undefined, transition: Transition, replan: Planner): void {
    const { ctx } = this.begun();
    const write = findingWrite(ctx.tenantId, current, transition);
    this.findings.set(write.next.rowKey, write.next);
    this.items.push({ ref, write, replan });
    this.queuedFindings.add(write.next.rowKey);
  }

  private buffered(): number {
    return this.items.length + this.snapshotRows.length + this.upnRows.length;
  }

  /** Writes the buffered round; rounds never overlap, so a finding's writes stay in order. */
  private flush(): Promise<void> {
    const run = this.flushing.then(() => this.writeRound());
    // Keep the chain usable after a failure; the caller still sees this round's error.
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async writeRound(): Promise<void> {
    const { run } = this.begun();
    const items = this.items;
    const snapshotRows = this.snapshotRows;
    const upnRows = this.upnRows;
    this.items = [];
    this.snapshotRows = [];
    this.upnRows = [];
    this.queuedFindings = new Set();
    this.queuedMailboxes = new Set();
    if (items.length === 0 && snapshotRows.length === 0 && upnRows.length === 0) return;

    // The UPN index first: a snapshot written without its index entry would never rewrite it.
    if (upnRows.length > 0) {
      const results = await this.store.writer.write(upnRows);
      const failed = results.find((result) => !result.ok);
      if (failed && !failed.ok) throw this.store.tables.fail({ statusCode: failed.statusCode }, 'writing the UPN index');
    }
    const states = await this.store.findings.commit(run.tenantId, items, snapshotRows);
    states.forEach((state) => this.findings.set(state.rowKey, state));
  }

  private lastSeenOf(state: FindingRow): Date {
    const firstSeen = new Date(state.firstSeen);
    const previous = this.previousCompleted?.startedAt;
    return previous && previous.getTime() > firstSeen.getTime() ? previous : firstSeen;
  }

  private begun(): { run: ScanRun; ctx: TransitionContext } {
    if (!this.run || !this.ctx) throw new Error('TableScanRecorder: begin must be called before observe, complete or fail.');
    return { run: this.run, ctx: this.ctx };
  }

  private async withTimeout<T>(work: Promise<T>, doing: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ServiceError(
              `Table Storage at ${this.store.tables.endpoint} did not answer within ${Math.round(this.beginTimeoutMs / 1000)} s while ${doing}. Check AzureWebJobsStorage and that the storage account (or Azurite) is running.`,
              'storage',
              undefined,
              'Timeout',
              { transient: true },
            ),
          ),
        this.beginTimeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
