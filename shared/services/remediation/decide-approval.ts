import { approvalRequestIdSchema, type ApprovalDecision } from '../../approval/links';
import type { RemediationPlan } from '../../remediation/plan';
import { ApprovalStateError, type ApprovalRequest } from '../../store/approvals';
import { parseFindingKey } from '../../store/findings';
import type { FindingStatus } from '../../store/model';
import { changeFinding } from '../finding-changes';
import { enqueuePlans } from './enqueue-plans';
import { clockOf, type RemediationServices } from './services';

/**
 * Deciding an approval request: a person approves (its changes are queued) or rejects (the same
 * change is never asked for again), once — the approvals table's ETag picks the one decision that
 * counts. The command line (`audit-warden approve|reject`) and the approval endpoint call these.
 */

type DecisionServices = Pick<RemediationServices, 'tenantId' | 'store' | 'approvals' | 'remediations' | 'queues' | 'paused' | 'logger' | 'clock'>;

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
 * One decision as the approval endpoint takes it, from a verified link and form: never resumes an
 * earlier decision (see ApproveOptions). Throws ApprovalStateError when the request cannot be decided.
 */
export async function decideApproval(
  services: DecisionServices,
  decision: { requestId: string; decision: ApprovalDecision; approver: string; reason?: string },
): Promise<DecisionReport> {
  const { requestId, approver } = decision;
  return decision.decision === 'approve'
    ? approve(services, requestId, approver, undefined, { resumeOwnDecision: false })
    : reject(services, requestId, approver, decision.reason ?? '');
}

/**
 * Approves a request (by its id, or by the key of the one finding it covers), once, and queues its
 * changes. While remediation is paused the decision is recorded and the changes wait: the first
 * planning run after the pause queues them without asking again.
 */
export async function approve(
  services: DecisionServices,
  target: string,
  approver: string,
  note?: string,
  options: ApproveOptions = {},
): Promise<DecisionReport> {
  const clock = clockOf(services);
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

/** Rejects a request, once. Its findings stay open, and the same change is not asked for again. */
export async function reject(services: DecisionServices, target: string, approver: string, reason: string): Promise<DecisionReport> {
  const clock = clockOf(services);
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

async function hasUnfinishedFindings(services: DecisionServices, request: ApprovalRequest): Promise<boolean> {
  for (const plan of request.plans) {
    const finding = await services.store.findings.get(services.tenantId, plan);
    if (finding?.status === 'awaiting-approval' && finding.metadata.approvalId === request.requestId) return true;
  }
  return false;
}

/** Applies a decision to one finding, if it is still the one the request was made for. */
async function decideFinding(
  services: DecisionServices,
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
    clockOf(services),
  );
  return applies;
}

/** A request id as given, or the request of the one finding a finding key names. */
async function resolveRequestId(services: DecisionServices, target: string): Promise<string> {
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
