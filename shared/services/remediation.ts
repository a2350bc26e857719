import { createHash } from 'node:crypto';
import type { AuditPolicy } from '../config/policy';
import { findingKey, type FindingValue, type RemediationMode, type RuleId } from '../domain/finding';
import type { SubscribedSku } from '../graph';
import type { Logger } from '../logging';
import { REMEDIATIONS_QUEUE, MESSAGE_VERSION, type QueueGateway, type RemediationMessage } from '../queue';
import { effectiveMode, SEVERITY_ORDER, splitByBlastRadius } from '../remediation/modes';
import { planRemediationFor, type LicenceContext, type PlanningContext, type RemediationAdvice, type RemediationPlan } from '../remediation/plan';
import { addsLicenceGatedAction, BLOCKED_BY_LICENCE, refusalHolds } from '../remediation/refusal';
import type { LicenceDirectory } from '../remediation/tenant';
import { approvalRequestIdSchema } from '../approval/links';
import { ApprovalStateError, MAX_PLANS_PER_REQUEST, type ApprovalRepository, type ApprovalRequest } from '../store/approvals';
import { parseFindingKey } from '../store/findings';
import type { FindingStatus, StoredFinding } from '../store/model';
import { changeFinding } from './finding-changes';
import type { AuditStore } from '../store/open';
import { budgetDayOf, type RemediationRepository } from '../store/remediations';
import type { StoredScanRun } from '../store/model';
import { RULE_METADATA } from '../rules/pack';
import { RefusalCache } from './remediation-refusals';

/**
 * Planning and deciding: turns the stored findings into queued changes and approval requests, and
 * approval decisions into queued changes. The nightly timer (after a completed scan), the command
 * line and, later, the Teams approval endpoint call these; the workers (remediation-worker.ts)
 * apply what they queue.
 *
 * The service API, in the order a night uses it (the demo and the Teams work call exactly these):
 *
 *   const env = openRemediationEnvironment(settings, policy, { logger, credential? });   // remediation-environment.ts
 *   const report = await planRemediation(env.services, { requestedBy: `scan:${scanId}` });
 *       // report.enqueued, report.approvalRequests (ids, plans with .description), report.changes, report.advice
 *   await approve(env.services, requestIdOrFindingKey, approverUpn, note?);   // single use; queues the changes
 *   await reject(env.services, requestIdOrFindingKey, approverUpn, reason);   // single use; never asked again for the same change
 *   const drained = await drainQueues(env.worker, env.queues, { onProgress? });  // remediation-drain.ts: apply + verify in-process
 *       // drained.counts: applied, verified, blocked, failed, duplicate, rejected-message, recorded-poison, retried, ...
 *   env.approvals.get(tenantId, requestId) / list(tenantId, 'pending')       // what a Teams card shows
 *
 * In Azure the queue-triggered functions call env.worker instead of drainQueues.
 */
export interface RemediationServices {
  tenantId: string;
  policy: AuditPolicy;
  /** REMEDIATION_PAUSED: plan and report, but enqueue and apply nothing. */
  paused: boolean;
  store: AuditStore;
  remediations: RemediationRepository;
  approvals: ApprovalRepository;
  queues: QueueGateway;
  logger: Logger;
  clock?: () => Date;
  /** How long an approval request stays open (default 72 h, the life of a Teams card's links). */
  approvalTtlMs?: number;
  /**
   * Graph reads for the licence fix (licence-inherited-blocks-mia's step 2). Without it that
   * rule's findings get advice only.
   */
  licences?: LicenceDirectory;
}

/**
 * How long a reprocess made for an earlier episode of the licence finding still counts as step 1
 * done: the finding may have been resolved by the verified reprocess and opened again by the next
 * refusal. Older than this, the drift is treated as new and the light step is tried again first.
 */
const REPROCESS_MEMORY_MS = 7 * 24 * 60 * 60 * 1000;

export const DEFAULT_APPROVAL_TTL_MS = 72 * 60 * 60 * 1000;

export interface PlanningOptions {
  /** Who asks: `scan:<scanId>` after the nightly scan, `cli:<user>` from the command line. */
  requestedBy: string;
  ruleId?: RuleId;
  /** One mailbox, by object id or UPN. */
  mailbox?: string;
  /**
   * Finding statuses to plan (default ['open']; the command line adds 'failed' to retry them).
   * Findings blocked by Exchange's licence refusal are always looked at, and planned again only if
   * the mailbox's licence changed since (PlanningReport.retriedAfterLicenceChange).
   */
  statuses?: FindingStatus[];
  /** Plan and report only: nothing is written, nothing enqueued. */
  whatIf?: boolean;
  /**
   * Queue at most this many automatic changes this run (most severe first); the rest stay open
   * for the next run. For careful roll-outs ("the first 100, look, then the rest").
   */
  limit?: number;
}

export interface PlannedChange {
  plan: RemediationPlan;
  mode: RemediationMode;
  /** Why it is not automatic, when the mode came out as approval. */
  approvalReason?: string;
}

export interface PlanningReport {
  tenantId: string;
  paused: boolean;
  whatIf: boolean;
  /** Every change planned, with the mode it runs in (report-mode plans included, never applied). */
  changes: PlannedChange[];
  /** Findings that get no change (advice only, or the rule failed on the object). */
  advice: RemediationAdvice[];
  /** Changes put on the remediations queue. */
  enqueued: number;
  /** Approval requests created this run. */
  approvalRequests: ApprovalRequest[];
  /** Changes a person already rejected: not asked again for the same change. */
  rejectedEarlier: number;
  /**
   * MailItemsAccessed (or Send) additions Exchange refused for the mailbox before, with nothing
   * changed since: not sent again and no blast radius spent; their findings are blocked.
   */
  refusedEarlier: number;
  /** Blocked additions planned again because the mailbox's licence changed since Exchange refused them. */
  retriedAfterLicenceChange: number;
  /** Requests that expired undecided (their findings were planned again). */
  expiredRequests: number;
  /** Automatic changes left for a later run by `limit`. */
  deferred: number;
  blastRadius: { limit: number; usedBefore: number; granted: number; overflow: number };
}

export async function planRemediation(services: RemediationServices, options: PlanningOptions): Promise<PlanningReport> {
  const clock = services.clock ?? (() => new Date());
  const now = clock();
  const { tenantId, policy } = services;
  const whatIf = options.whatIf ?? false;
  const report: PlanningReport = {
    tenantId,
    paused: services.paused,
    whatIf,
    changes: [],
    advice: [],
    enqueued: 0,
    approvalRequests: [],
    rejectedEarlier: 0,
    refusedEarlier: 0,
    retriedAfterLicenceChange: 0,
    expiredRequests: 0,
    deferred: 0,
    blastRadius: { limit: policy.blastRadiusLimit, usedBefore: 0, granted: 0, overflow: 0 },
  };

  // Requests nobody decided in time give their findings back to planning.
  if (!whatIf && !services.paused) report.expiredRequests = await expireRequests(services, now);

  const findings = new Map<string, StoredFinding>();
  const auto: RemediationPlan[] = [];
  const approval: RemediationPlan[] = [];
  const approvedAlready: RemediationPlan[] = [];
  const refused: Array<{ plan: RemediationPlan; finding: StoredFinding; reason: string }> = [];
  const refusals = new RefusalCache(services.store, tenantId);
  const licences = new LicenceContextReader(services, now);
  // Blocked findings are listed too, but only those blocked by Exchange's licence refusal are
  // considered, and planned only if the mailbox's licence changed since (retriedAfterLicenceChange).
  const statuses = [...new Set<FindingStatus>([...(options.statuses ?? ['open']), 'blocked'])];
  for (const status of statuses) {
    for await (const finding of findingsWith(services, status, options)) {
      if (status === 'blocked' && !blockedByLicenceRefusal(finding)) continue;
      const context: PlanningContext = finding.ruleId === 'licence-inherited-blocks-mia' ? await licences.contextFor(finding) : {};
      const outcome = planRemediationFor(finding, policy, context);
      if (outcome.kind === 'advice') {
        if (status !== 'blocked') report.advice.push(outcome.advice);
        continue;
      }
      const plan = outcome.plan;
      if (plan.objectType === 'mailbox' && addsLicenceGatedAction(plan.change)) {
        const refusal = await refusals.get(plan.objectId);
        if (status === 'blocked') {
          // Retried only on evidence that something changed: a refusal whose mailbox now shows
          // other capabilities. (A cleared refusal reopens its findings itself.)
          if (!refusal || refusalHolds(refusal)) continue;
          report.retriedAfterLicenceChange += 1;
        } else if (refusalHolds(refusal)) {
          refused.push({
            plan,
            finding,
            reason:
              refusal!.miaRefusedReason ??
              `Exchange refused MailItemsAccessed for this mailbox on ${refusal!.miaRefusedAt}`,
          });
          continue;
        }
      } else if (status === 'blocked') continue;
      findings.set(plan.findingKey, finding);
      if (finding.metadata.rejectedKey === plan.idempotencyKey) {
        report.rejectedEarlier += 1;
        continue;
      }
      const mode = effectiveMode(policy, plan.ruleId, plan.change.kind);
      if (finding.metadata.approvedKey === plan.idempotencyKey) approvedAlready.push(plan);
      else if (mode === 'auto') auto.push(plan);
      else if (mode === 'approval') approval.push(plan);
      report.changes.push({ plan, mode, ...(mode === 'approval' ? { approvalReason: approvalReasonOf(plan, policy) } : {}) });
    }
  }
  report.refusedEarlier = refused.length;

  auto.sort(bySeverityThenKey);
  if (options.limit !== undefined && auto.length > options.limit) {
    const deferred = new Set(auto.splice(Math.max(0, options.limit)).map((plan) => plan.idempotencyKey));
    report.deferred = deferred.size;
    report.changes = report.changes.filter((change) => !deferred.has(change.plan.idempotencyKey));
  }
  const used = await services.remediations.usedAutoChanges(tenantId, now);
  report.blastRadius.usedBefore = used;
  let granted = Math.max(0, Math.min(auto.length, policy.blastRadiusLimit - used));
  if (!whatIf && !services.paused && granted > 0) {
    granted = (await services.remediations.reserveAutoChanges(tenantId, now, granted, policy.blastRadiusLimit)).granted;
  }
  const split = splitByBlastRadius(auto, granted);
  report.blastRadius.granted = split.auto.length;
  report.blastRadius.overflow = split.overflow.length;
  const overflowKeys = new Set(split.overflow.map((plan) => plan.idempotencyKey));
  for (const change of report.changes) {
    if (overflowKeys.has(change.plan.idempotencyKey)) {
      change.mode = 'approval';
      change.approvalReason = `over the blast-radius limit of ${policy.blastRadiusLimit} automatic changes per night`;
    }
  }

  if (whatIf) return report;
  // Also while paused: marking the findings blocked changes nothing in the tenant.
  for (const item of refused) await blockAsRefusedEarlier(services, item, options.requestedBy, now);
  if (services.paused) {
    services.logger.warn('remediation is paused (REMEDIATION_PAUSED): nothing was enqueued', {
      tenantId,
      wouldEnqueue: split.auto.length + approvedAlready.length,
      wouldAskApproval: approval.length + split.overflow.length,
    });
    return report;
  }

  // Only the automatic changes name the budget day: they are the ones that spent it (and give it
  // back if they end blocked). Changes a person approved during a pause did not.
  report.enqueued += await enqueuePlans(services, approvedAlready, options.requestedBy, undefined, now, findings);
  report.enqueued += await enqueuePlans(services, split.auto, options.requestedBy, undefined, now, findings, budgetDayOf(now));

  const requests: Array<{ plans: RemediationPlan[]; reason: string }> = approval.map((plan) => ({ plans: [plan], reason: approvalReasonOf(plan, policy, true) }));
  for (const [ruleId, plans] of groupByRule(split.overflow)) {
    for (let index = 0; index < plans.length; index += MAX_PLANS_PER_REQUEST) {
      requests.push({
        plans: plans.slice(index, index + MAX_PLANS_PER_REQUEST),
        reason: `${ruleId}: over the blast-radius limit of ${policy.blastRadiusLimit} automatic changes per night`,
      });
    }
  }
  for (const request of requests) report.approvalRequests.push(await openRequest(services, request.plans, request.reason, options.requestedBy, now, findings));
  services.logger.info('remediation planned', {
    tenantId,
    enqueued: report.enqueued,
    approvalRequests: report.approvalRequests.length,
    advice: report.advice.length,
    overflow: split.overflow.length,
    refusedEarlier: report.refusedEarlier,
  });
  return report;
}

/** Why a change waits for a person: the short form for the plan listing, the long one for the request. */
function approvalReasonOf(plan: RemediationPlan, policy: AuditPolicy, long = false): string {
  if (plan.change.kind === 'assign-licence') return 'a direct licence assignment is always approved by a person';
  if (plan.change.kind === 'reprocess-licence') return `policy.licenceReprocessMode is ${policy.licenceReprocessMode}`;
  return long ? `the policy's mode for ${plan.ruleId} is approval` : `policy mode for ${plan.ruleId}`;
}

function blockedByLicenceRefusal(finding: StoredFinding): boolean {
  // Findings blocked before the metadata existed: the MailItemsAccessed ones were licence refusals.
  return finding.metadata.blockedBy === BLOCKED_BY_LICENCE || finding.ruleId === 'mailitemsaccessed-missing';
}

/**
 * An addition Exchange refused for this mailbox and would refuse again: the finding is blocked
 * with Exchange's words, once, and nothing is queued (so no blast radius is spent on it).
 */
async function blockAsRefusedEarlier(
  services: RemediationServices,
  item: { plan: RemediationPlan; finding: StoredFinding; reason: string },
  actor: string,
  now: Date,
): Promise<void> {
  const { plan, reason } = item;
  await changeFinding(
    services.store,
    services.tenantId,
    plan,
    (current) => {
      if (current.episode !== plan.episode || (current.status !== 'open' && current.status !== 'failed')) return undefined;
      return {
        status: 'blocked',
        metadata: { ...current.metadata, remediationKey: plan.idempotencyKey, remediationStage: 'refused-earlier', blockedBy: BLOCKED_BY_LICENCE, blockedAt: now.toISOString() },
        event: {
          type: 'blocked',
          actor,
          reason,
          details: {
            idempotencyKey: plan.idempotencyKey,
            change: plan.description,
            licenceRefusal: true,
            notSent: 'Exchange refused this for the mailbox before, and nothing about its licence has changed since',
          },
        },
      };
    },
    services.clock ?? (() => new Date()),
  );
}

/**
 * Reads what the licence fix's planner needs, per finding: the step already taken (from the
 * remediation records), whether a scan since saw the finding (from the scan runs), and — only
 * when step 2 is due — the user's licences and the SKU catalogue from Graph.
 */
class LicenceContextReader {
  private skus: Promise<readonly SubscribedSku[]> | undefined;
  private lastScan: Promise<StoredScanRun | undefined> | undefined;

  constructor(
    private readonly services: RemediationServices,
    private readonly now: Date,
  ) {}

  async contextFor(finding: StoredFinding): Promise<PlanningContext> {
    const directory = this.services.licences;
    if (!directory) return {};
    const records = await this.services.remediations.forFinding(this.services.tenantId, finding.objectId, findingKey(finding));
    const reprocess = records
      .filter((record) => record.change.kind === 'reprocess-licence' && record.appliedAt !== undefined)
      .filter((record) => record.episode === finding.episode || this.now.getTime() - record.appliedAt!.getTime() < REPROCESS_MEMORY_MS)
      .sort((a, b) => b.appliedAt!.getTime() - a.appliedAt!.getTime())[0];
    const context: LicenceContext = { skus: [], reportedAfterReprocess: false };
    if (!reprocess) return { licence: context };
    context.reprocess = { appliedAt: reprocess.appliedAt! };
    this.lastScan ??= this.services.store.scans.lastCompleted(this.services.tenantId);
    const scan = await this.lastScan;
    // The scan read the tenant after the reprocess, and the finding was already open when it ran
    // (it is still active, so that scan kept it): Exchange still refuses.
    context.reportedAfterReprocess = Boolean(
      scan && scan.startedAt.getTime() > reprocess.appliedAt!.getTime() && finding.firstSeen.getTime() <= scan.startedAt.getTime(),
    );
    if (!context.reportedAfterReprocess) return { licence: context };
    this.skus ??= directory.subscribedSkus();
    const [user, skus] = await Promise.all([directory.getUser(finding.objectId), this.skus]);
    return { licence: { ...context, skus, ...(user ? { user } : {}) } };
  }
}

export interface ApproveOptions {
  /**
   * Default true: the command line's "approve it again to finish it". The HTTP endpoint passes
   * false, so a second POST of the same approval (a double click, a retry) is always answered
   * "already decided" and only the POST whose decision won the ETag race queues anything.
   */
  resumeOwnDecision?: boolean;
}

export interface DecisionReport {
  request: ApprovalRequest;
  /** Changes queued by an approval (0 for a rejection, or while paused). */
  enqueued: number;
  /** Findings the decision no longer applied to (resolved meanwhile, or another episode). */
  skipped: string[];
  paused: boolean;
}

/**
 * Approves a request (by its id, or by the key of the one finding it covers), once, and queues its
 * changes. While remediation is paused the decision is recorded and the changes wait: the first
 * planning run after the pause queues them without asking again.
 */
export async function approve(
  services: RemediationServices,
  target: string,
  approver: string,
  note?: string,
  options: ApproveOptions = {},
): Promise<DecisionReport> {
  const clock = services.clock ?? (() => new Date());
  const requestId = await resolveRequestId(services, target);
  let request: ApprovalRequest;
  try {
    request = await services.approvals.decide(services.tenantId, requestId, { status: 'approved', by: approver, at: clock(), ...(note ? { reason: note } : {}) });
  } catch (error) {
    // The same approver deciding again finishes an approval whose findings were not all moved on
    // (the process stopped half-way); any other second decision is refused, naming who decided.
    if (!(error instanceof ApprovalStateError) || !error.request || options.resumeOwnDecision === false) throw error;
    const resumable = error.request.status === 'approved' && error.request.decidedBy === approver && (await hasUnfinishedFindings(services, error.request));
    if (!resumable) throw error;
    request = error.request;
  }
  const skipped: string[] = [];
  const approvedPlans: RemediationPlan[] = [];
  for (const plan of request.plans) {
    const ok = await decideFinding(services, plan, request, {
      status: services.paused ? 'open' : 'remediating',
      metadata: services.paused ? { approvedKey: plan.idempotencyKey } : { remediationKey: plan.idempotencyKey, remediationStage: 'queued' },
      event: { type: 'approved', actor: approver, reason: note ?? `approved request ${request.requestId}`, details: { requestId: request.requestId, change: plan.description } },
    });
    if (ok) approvedPlans.push(plan);
    else skipped.push(plan.findingKey);
  }
  const enqueued = services.paused ? 0 : await enqueuePlans(services, approvedPlans, `approval:${approver}`, request.requestId, clock());
  services.logger.info('approval recorded', { tenantId: services.tenantId, requestId, approver, enqueued, paused: services.paused });
  return { request, enqueued, skipped, paused: services.paused };
}

async function hasUnfinishedFindings(services: RemediationServices, request: ApprovalRequest): Promise<boolean> {
  for (const plan of request.plans) {
    const finding = await services.store.findings.get(services.tenantId, plan);
    if (finding?.status === 'awaiting-approval' && finding.metadata.approvalId === request.requestId) return true;
  }
  return false;
}

/** Rejects a request, once. Its findings stay open, and the same change is not asked for again. */
export async function reject(services: RemediationServices, target: string, approver: string, reason: string): Promise<DecisionReport> {
  const clock = services.clock ?? (() => new Date());
  if (reason.trim() === '') throw new ApprovalStateError('A rejection needs a reason (--reason "…"): it is kept in the drift history.');
  const requestId = await resolveRequestId(services, target);
  const request = await services.approvals.decide(services.tenantId, requestId, { status: 'rejected', by: approver, at: clock(), reason });
  const skipped: string[] = [];
  for (const plan of request.plans) {
    const ok = await decideFinding(services, plan, request, {
      status: 'open',
      metadata: { rejectedKey: plan.idempotencyKey },
      event: { type: 'rejected', actor: approver, reason, details: { requestId: request.requestId, change: plan.description } },
    });
    if (!ok) skipped.push(plan.findingKey);
  }
  return { request, enqueued: 0, skipped, paused: services.paused };
}

/**
 * Puts plans on the remediations queue: ledger rows (batched), the messages, then the findings'
 * status (`remediating`, batched when the caller passes the findings it read). Ledger first: a
 * change already in hand is not sent again, and one queued but perhaps never sent (the process
 * stopped between) is sent again — the worker makes a duplicate harmless.
 */
export async function enqueuePlans(
  services: Pick<RemediationServices, 'tenantId' | 'store' | 'remediations' | 'queues' | 'paused'>,
  plans: RemediationPlan[],
  requestedBy: string,
  approvalId: string | undefined,
  now: Date,
  findings?: ReadonlyMap<string, StoredFinding>,
  /** The blast-radius day these automatic changes were granted from. */
  budgetDay?: string,
): Promise<number> {
  if (services.paused || plans.length === 0) return 0;
  const decisions = await services.remediations.markQueuedMany(services.tenantId, plans, {
    requestedBy,
    ...(approvalId ? { approvalId } : {}),
    at: now,
    ...(budgetDay ? { budgetDay } : {}),
  });
  const sent: RemediationPlan[] = [];
  await runLimited(
    plans.filter((_, index) => decisions[index]),
    16,
    async (plan) => {
      const message: RemediationMessage = {
        version: MESSAGE_VERSION,
        type: 'remediation',
        tenantId: services.tenantId,
        plan,
        requestedBy,
        ...(approvalId ? { approvalId } : {}),
        enqueuedAt: now.toISOString(),
      };
      await services.queues.send(REMEDIATIONS_QUEUE, message);
      sent.push(plan);
    },
  );
  if (findings) {
    await setStatuses(services, sent, findings, 'remediating', (plan, current) => ({
      ...current.metadata,
      remediationKey: plan.idempotencyKey,
      remediationStage: 'queued',
      approvedKey: null,
    }));
  }
  return sent.length;
}

/**
 * Event-less status changes of many findings in batches, each guarded by the ETag read when the
 * finding was listed; one that changed since is redone alone, if it is still the same episode in
 * a status the change applies to.
 */
async function setStatuses(
  services: Pick<RemediationServices, 'tenantId' | 'store'>,
  plans: RemediationPlan[],
  findings: ReadonlyMap<string, StoredFinding>,
  status: FindingStatus,
  metadata: (plan: RemediationPlan, current: StoredFinding) => Record<string, FindingValue>,
  from: readonly FindingStatus[] = ['open', 'failed', 'blocked'],
): Promise<void> {
  const changes = plans.flatMap((plan) => {
    const finding = findings.get(plan.findingKey);
    return finding ? [{ plan, finding, status, metadata: metadata(plan, finding) }] : [];
  });
  const raced = new Set((await services.store.findings.setStatusMany(services.tenantId, changes)).map((finding) => finding.key));
  for (const change of changes.filter((item) => raced.has(item.finding.key))) {
    await changeFinding(
      services.store,
      services.tenantId,
      change.plan,
      (current) => (current.episode === change.plan.episode && from.includes(current.status) ? { status, metadata: metadata(change.plan, current) } : undefined),
      () => new Date(),
    );
  }
}

async function openRequest(
  services: RemediationServices,
  plans: RemediationPlan[],
  reason: string,
  createdBy: string,
  now: Date,
  findings: ReadonlyMap<string, StoredFinding>,
): Promise<ApprovalRequest> {
  const day = now.toISOString().slice(0, 10);
  const digest = createHash('sha256')
    .update([services.tenantId, day, ...plans.map((plan) => plan.idempotencyKey).sort()].join('\n'))
    .digest('hex')
    .slice(0, 24);
  const request = await services.approvals.create({
    tenantId: services.tenantId,
    requestId: `apr-${digest}`,
    reason,
    createdAt: now,
    expiresAt: new Date(now.getTime() + (services.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS)),
    createdBy,
    plans,
  });
  await setStatuses(
    services,
    plans,
    findings,
    'awaiting-approval',
    (plan, current) => ({ ...current.metadata, approvalId: request.requestId, remediationKey: plan.idempotencyKey }),
    ['open', 'failed', 'blocked'],
  );
  return request;
}

/**
 * Expires pending requests past their expiry, and gives back to planning every finding still
 * waiting on a request that is no longer pending (expired here or by a late decision, or left
 * half-done by a stopped process).
 */
async function expireRequests(services: RemediationServices, now: Date): Promise<number> {
  let expired = 0;
  for (const request of await services.approvals.list(services.tenantId, 'pending')) {
    if (request.expiresAt.getTime() > now.getTime()) continue;
    if ((await services.approvals.expire(request, now)).status === 'expired') expired += 1;
  }
  const requests = new Map<string, Promise<ApprovalRequest | undefined>>();
  for await (const finding of findingsWith(services, 'awaiting-approval', {})) {
    const requestId = finding.metadata.approvalId;
    if (typeof requestId !== 'string') continue;
    if (!requests.has(requestId)) requests.set(requestId, services.approvals.get(services.tenantId, requestId));
    const request = await requests.get(requestId)!;
    if (request?.status === 'pending') continue;
    await services.store.findings.update(services.tenantId, finding, (current) =>
      current.status === 'awaiting-approval' && current.metadata.approvalId === requestId
        ? { status: 'open', metadata: { ...current.metadata, approvalId: null } }
        : undefined,
    );
  }
  return expired;
}

/** Applies a decision to one finding, if it is still the one the request was made for. */
async function decideFinding(
  services: RemediationServices,
  plan: RemediationPlan,
  request: ApprovalRequest,
  change: { status: FindingStatus; metadata: Record<string, string | null>; event: { type: 'approved' | 'rejected'; actor: string; reason: string; details: Record<string, unknown> } },
): Promise<boolean> {
  let applies = false;
  await changeFinding(
    services.store,
    services.tenantId,
    plan,
    (current) => {
      applies = current.episode === plan.episode && current.status === 'awaiting-approval' && current.metadata.approvalId === request.requestId;
      if (!applies) return undefined;
      return { status: change.status, metadata: { ...current.metadata, ...change.metadata, approvalId: null }, event: change.event };
    },
    services.clock ?? (() => new Date()),
  );
  return applies;
}

/** A request id as given, or the request of the one finding a finding key names. */
async function resolveRequestId(services: RemediationServices, target: string): Promise<string> {
  const value = target.trim();
  if (!value.includes('|')) {
    if (!approvalRequestIdSchema.safeParse(value).success) throw new ApprovalStateError(`"${value}" is neither an approval request id nor a finding key (rule|object[|logonType]).`);
    return value;
  }
  const ref = parseFindingKey(value);
  const finding = await services.store.findings.get(services.tenantId, ref);
  if (!finding) throw new ApprovalStateError(`There is no finding ${value}.`);
  const requestId = finding.metadata.approvalId;
  if (finding.status !== 'awaiting-approval' || typeof requestId !== 'string') {
    throw new ApprovalStateError(`Finding ${value} is ${finding.status}, not awaiting approval; there is nothing to decide.`);
  }
  const request = await services.approvals.get(services.tenantId, requestId);
  if (request && request.plans.length > 1) {
    throw new ApprovalStateError(
      `Finding ${value} is one of ${request.plans.length} changes in approval request ${requestId}; decide the request as a whole by its id.`,
      request,
    );
  }
  return requestId;
}

async function* findingsWith(services: RemediationServices, status: FindingStatus, options: Pick<PlanningOptions, 'ruleId' | 'mailbox'>): AsyncGenerator<StoredFinding> {
  let next: string | undefined;
  do {
    const page = await services.store.findings.list(
      services.tenantId,
      { status, ...(options.ruleId ? { ruleId: options.ruleId } : {}), ...(options.mailbox ? { mailbox: options.mailbox } : {}) },
      { pageSize: 1000, ...(next ? { next } : {}) },
    );
    yield* page.items;
    next = page.next;
  } while (next);
}

function bySeverityThenKey(a: RemediationPlan, b: RemediationPlan): number {
  const severity = (plan: RemediationPlan) => SEVERITY_ORDER[ruleSeverity(plan.ruleId)];
  return severity(a) - severity(b) || (a.findingKey < b.findingKey ? -1 : a.findingKey > b.findingKey ? 1 : 0);
}

function groupByRule(plans: RemediationPlan[]): Map<RuleId, RemediationPlan[]> {
  const groups = new Map<RuleId, RemediationPlan[]>();
  for (const plan of plans) groups.set(plan.ruleId, [...(groups.get(plan.ruleId) ?? []), plan]);
  return groups;
}

async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function ruleSeverity(ruleId: RuleId) {
  return RULE_METADATA[ruleId].severity;
}
