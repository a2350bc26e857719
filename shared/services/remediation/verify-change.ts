import { VERIFICATIONS_QUEUE, trustedPlan } from '../../queue';
import { classifyFailure } from '../../tenant/apply';
import type { RemediationPlan } from '../../remediation/plan';
import type { TargetState } from '../../tenant/verify';
import { RULES_BY_ID } from '../../rules';
import type { RemediationRecord } from '../../store/remediations';
import { readMessage } from './dead-letters';
import { learnFromVerifiedChange } from './licence-feedback';
import { recordFinding, targetState, VERIFIER, type WorkerContext, type WorkerDelivery, type WorkerOutcome } from './worker-context';

/** What a verified reprocess means, for the finding's history (it is not a fix, only step 1). */
const REPROCESS_VERIFIED =
  "Graph re-ran the user's group licence assignments and shows them in force. Whether Exchange now applies the licence shows at the next scan " +
  'and the next MailItemsAccessed attempt (retried now); if Exchange still refuses, a direct licence assignment is proposed for approval.';

/**
 * Verify (verifications queue): re-read the object, run the same rule; resolved only when it
 * passes, else checked again a few times, then failed.
 */
export async function verifyChange(ctx: WorkerContext, body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
  const { deps } = ctx;
  const message = await readMessage(ctx, body, 'verification', VERIFICATIONS_QUEUE, delivery);
  if (!message) return { kind: 'done', result: 'rejected-message' };
  const plan = trustedPlan(message.plan);
  const { tenantId } = message;
  const record = await deps.remediations.get(tenantId, plan.objectId, plan.idempotencyKey);
  if (record && record.status !== 'applied') return { kind: 'done', result: 'duplicate', detail: `the change is ${record.status}` };

  let state: TargetState;
  try {
    state = await targetState(ctx, plan);
  } catch (error) {
    const failure = classifyFailure(error);
    if (failure?.kind === 'transient') return { kind: 'retry', delayMs: ctx.options.transientRetryMs, reason: failure.message };
    throw error;
  }
  const at = ctx.clock();
  if (state.state === 'gone') {
    await deps.remediations.finish(tenantId, plan, 'skipped', { at, reason: state.reason });
    return { kind: 'done', result: 'skipped', detail: state.reason };
  }
  if (state.state === 'compliant') {
    // A verified reprocess is step 1 of the licence fix: the drift itself is not known to be gone,
    // so the finding stays open for the next scan to judge (and the planner to take step 2 if needed).
    const reprocess = plan.change.kind === 'reprocess-licence';
    await recordFinding(ctx, tenantId, plan, 'verified', reprocess ? 'open' : 'resolved', {
      type: 'verified',
      actor: VERIFIER,
      reason: reprocess ? REPROCESS_VERIFIED : `re-read after the change: ${RULES_BY_ID[plan.ruleId].id} passes`,
      details: { idempotencyKey: plan.idempotencyKey, change: plan.description, attempt: message.attempt, requestedBy: message.requestedBy },
    });
    if (!(await finishVerification(ctx, tenantId, plan, record, 'verified', { at }))) return { kind: 'done', result: 'duplicate', detail: 'verified by another delivery' };
    await learnFromVerifiedChange(ctx, tenantId, plan, at);
    return { kind: 'done', result: 'verified' };
  }
  if (message.attempt < ctx.options.maxVerifyAttempts) {
    await deps.queues.send(VERIFICATIONS_QUEUE, { ...message, attempt: message.attempt + 1 }, { delaySeconds: ctx.options.verifyRetryDelaySeconds });
    return { kind: 'done', result: 'verify-again' };
  }
  const reason = verificationFailure(plan, state.finding.actual, message.attempt);
  await recordFinding(ctx, tenantId, plan, 'failed', 'failed', {
    type: 'failed',
    actor: VERIFIER,
    reason,
    details: { idempotencyKey: plan.idempotencyKey, change: plan.description, expected: state.finding.expected, actual: state.finding.actual },
  });
  if (!(await finishVerification(ctx, tenantId, plan, record, 'failed', { at, reason }))) return { kind: 'done', result: 'duplicate', detail: 'finished by another delivery' };
  deps.logger.warn('remediation did not verify', { tenantId, findingKey: plan.findingKey, reason });
  return { kind: 'done', result: 'failed', detail: reason };
}

/** The verification's outcome in the ledger; false when another delivery recorded one first. */
async function finishVerification(
  ctx: WorkerContext,
  tenantId: string,
  plan: RemediationPlan,
  record: RemediationRecord | undefined,
  status: 'verified' | 'failed',
  detail: { at: Date; reason?: string },
): Promise<boolean> {
  if (record) return ctx.deps.remediations.finishFrom(record, status, detail);
  await ctx.deps.remediations.finish(tenantId, plan, status, detail);
  return true;
}

function verificationFailure(plan: RemediationPlan, actual: unknown, attempts: number): string {
  const base = `after the change, ${plan.ruleId} still reports ${JSON.stringify(actual)} (${attempts} checks)`;
  if (plan.change.kind === 'set-mailbox' && plan.change.defaultAuditSet && plan.ruleId === 'mailitemsaccessed-missing') {
    // REFERENCE.md §8: a reset to the default set has been seen without MailItemsAccessed.
    return `${base}; Microsoft's managed set did not bring MailItemsAccessed back — set policy.preferDefaultAuditSet to false to add it explicitly`;
  }
  return base;
}
