import type { AuditPolicy } from '../../config/policy';
import type { RemediationMode, RuleId } from '../../domain/finding';
import { effectiveMode, SEVERITY_ORDER, splitByBlastRadius, type BlastRadiusSplit } from '../../remediation/modes';
import { planRemediationFor, type PlanningContext, type RemediationAdvice, type RemediationPlan } from '../../remediation/plan';
import { addsLicenceGatedAction, blockedByLicenceRefusal, refusalHolds } from '../../remediation/refusal';
import { RULE_METADATA } from '../../rules/pack';
import { MAX_PLANS_PER_REQUEST, type ApprovalRequest } from '../../store/approvals';
import type { FindingStatus, StoredFinding } from '../../store/model';
import { budgetDayOf } from '../../store/remediations';
import { expireRequests, openRequest } from './approval-requests';
import { enqueuePlans } from './enqueue-plans';
import { LicenceContextReader } from './licence-context';
import { blockAsRefusedEarlier, RefusalCache, type RefusedEarlier } from './licence-feedback';
import { clockOf, findingsWith, type FindingFilter, type RemediationServices } from './services';

/**
 * Planning: turns the stored findings into queued changes and approval requests. The nightly
 * timer (after a completed scan) and the command line call it; the queue workers apply what it
 * queues (apply-change.ts), and a person decides what waits (decide-approval.ts).
 */

export interface PlanningOptions extends FindingFilter {
  /** Who asks: `scan:<scanId>` after the nightly scan, `cli:<user>` from the command line. */
  requestedBy: string;
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

/** The plans of one run, by what happens to them next. */
interface Triage {
  findings: Map<string, StoredFinding>;
  auto: RemediationPlan[];
  approval: RemediationPlan[];
  approvedAlready: RemediationPlan[];
  refused: RefusedEarlier[];
}

export async function planRemediation(services: RemediationServices, options: PlanningOptions): Promise<PlanningReport> {
  const now = clockOf(services)();
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
  const triage = await triageFindings(services, options, now, report);
  const split = await spendBlastRadius(services, triage.auto, options, now, report);
  if (whatIf) return report;

  // Also while paused: marking the findings blocked changes nothing in the tenant.
  for (const item of triage.refused) await blockAsRefusedEarlier(services, item, options.requestedBy, now);
  if (services.paused) {
    services.logger.warn('remediation is paused (REMEDIATION_PAUSED): nothing was enqueued', {
      tenantId,
      wouldEnqueue: split.auto.length + triage.approvedAlready.length,
      wouldAskApproval: triage.approval.length + split.overflow.length,
    });
    return report;
  }

  // Only the automatic changes name the budget day: they are the ones that spent it (and give it
  // back if they end blocked). Changes a person approved during a pause did not.
  report.enqueued += await enqueuePlans(services, triage.approvedAlready, options.requestedBy, undefined, now, triage.findings);
  report.enqueued += await enqueuePlans(services, split.auto, options.requestedBy, undefined, now, triage.findings, budgetDayOf(now));

  const requests = triage.approval.map((plan) => ({ plans: [plan], reason: approvalReasonOf(plan, policy, true) }));
  for (const [ruleId, plans] of groupByRule(split.overflow)) {
    for (let index = 0; index < plans.length; index += MAX_PLANS_PER_REQUEST) {
      requests.push({ plans: plans.slice(index, index + MAX_PLANS_PER_REQUEST), reason: `${ruleId}: ${overBlastRadius(policy)}` });
    }
  }
  for (const request of requests) {
    report.approvalRequests.push(await openRequest(services, request.plans, request.reason, options.requestedBy, now, triage.findings));
  }
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

/** Plans every finding in the asked statuses and sorts the plans by mode; the report gets the changes and advice. */
async function triageFindings(services: RemediationServices, options: PlanningOptions, now: Date, report: PlanningReport): Promise<Triage> {
  const { policy } = services;
  const triage: Triage = { findings: new Map(), auto: [], approval: [], approvedAlready: [], refused: [] };
  const refusals = new RefusalCache(services.store, services.tenantId);
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
          const reason = refusal!.miaRefusedReason ?? `Exchange refused MailItemsAccessed for this mailbox on ${refusal!.miaRefusedAt}`;
          triage.refused.push({ plan, finding, reason });
          continue;
        }
      } else if (status === 'blocked') continue;
      triage.findings.set(plan.findingKey, finding);
      if (finding.metadata.rejectedKey === plan.idempotencyKey) {
        report.rejectedEarlier += 1;
        continue;
      }
      const mode = effectiveMode(policy, plan.ruleId, plan.change.kind);
      if (finding.metadata.approvedKey === plan.idempotencyKey) triage.approvedAlready.push(plan);
      else if (mode === 'auto') triage.auto.push(plan);
      else if (mode === 'approval') triage.approval.push(plan);
      report.changes.push({ plan, mode, ...(mode === 'approval' ? { approvalReason: approvalReasonOf(plan, policy) } : {}) });
    }
  }
  report.refusedEarlier = triage.refused.length;
  return triage;
}

/**
 * The night's blast radius: the automatic plans, most severe first, up to `limit` this run and up
 * to what is left of the day's budget (reserved, unless nothing will be written); the rest wait
 * for a person, and their changes in the report say so.
 */
async function spendBlastRadius(
  services: RemediationServices,
  auto: RemediationPlan[],
  options: PlanningOptions,
  now: Date,
  report: PlanningReport,
): Promise<BlastRadiusSplit<RemediationPlan>> {
  const { tenantId, policy } = services;
  auto.sort(bySeverityThenKey);
  if (options.limit !== undefined && auto.length > options.limit) {
    const deferred = new Set(auto.splice(Math.max(0, options.limit)).map((plan) => plan.idempotencyKey));
    report.deferred = deferred.size;
    report.changes = report.changes.filter((change) => !deferred.has(change.plan.idempotencyKey));
  }
  const used = await services.remediations.usedAutoChanges(tenantId, now);
  report.blastRadius.usedBefore = used;
  let granted = Math.max(0, Math.min(auto.length, policy.blastRadiusLimit - used));
  if (!report.whatIf && !services.paused && granted > 0) {
    granted = (await services.remediations.reserveAutoChanges(tenantId, now, granted, policy.blastRadiusLimit)).granted;
  }
  const split = splitByBlastRadius(auto, granted);
  report.blastRadius.granted = split.auto.length;
  report.blastRadius.overflow = split.overflow.length;
  const overflowKeys = new Set(split.overflow.map((plan) => plan.idempotencyKey));
  for (const change of report.changes) {
    if (overflowKeys.has(change.plan.idempotencyKey)) {
      change.mode = 'approval';
      change.approvalReason = overBlastRadius(policy);
    }
  }
  return split;
}

function overBlastRadius(policy: AuditPolicy): string {
  return `over the blast-radius limit of ${policy.blastRadiusLimit} automatic changes per night`;
}

/** Why a change waits for a person: the short form for the plan listing, the long one for the request. */
function approvalReasonOf(plan: RemediationPlan, policy: AuditPolicy, long = false): string {
  if (plan.change.kind === 'assign-licence') return 'a direct licence assignment is always approved by a person';
  if (plan.change.kind === 'reprocess-licence') return `policy.licenceReprocessMode is ${policy.licenceReprocessMode}`;
  return long ? `the policy's mode for ${plan.ruleId} is approval` : `policy mode for ${plan.ruleId}`;
}

function bySeverityThenKey(a: RemediationPlan, b: RemediationPlan): number {
  const severity = (plan: RemediationPlan) => SEVERITY_ORDER[RULE_METADATA[plan.ruleId].severity];
  return severity(a) - severity(b) || (a.findingKey < b.findingKey ? -1 : a.findingKey > b.findingKey ? 1 : 0);
}

function groupByRule(plans: RemediationPlan[]): Map<RuleId, RemediationPlan[]> {
  const groups = new Map<RuleId, RemediationPlan[]>();
  for (const plan of plans) groups.set(plan.ruleId, [...(groups.get(plan.ruleId) ?? []), plan]);
  return groups;
}
