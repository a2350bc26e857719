import { REMEDIATIONS_QUEUE, VERIFICATIONS_QUEUE, trustedPlan, type RemediationMessage, type VerificationMessage } from '../../queue';
import { applyChange, classifyFailure, type AppliedChange, type DirectLicenceRecord } from '../../tenant/apply';
import type { RemediationPlan } from '../../remediation/plan';
import { BLOCKED_BY_LICENCE } from '../../remediation/refusal';
import { isActiveStatus, type FindingStatus } from '../../store/model';
import { changeFinding } from '../finding-changes';
import { readMessage } from './dead-letters';
import { learnRefusal, refuseKnownRefusal } from './licence-feedback';
import { ACTOR, recordFinding, targetState, type WorkerContext, type WorkerDelivery, type WorkerOutcome } from './worker-context';

/**
 * Apply (remediations queue): claim the change in the ledger (the intent, with a lease naming the
 * message) → call the tenant → record `remediated` on the finding → mark the ledger applied →
 * enqueue a verification. A message delivered twice finds the ledger ahead of it and does nothing
 * (or only re-enqueues the verification). A delivery that died after the tenant call and before the
 * record is redelivered with its own lease: it re-reads the object, sees the change in place, and
 * records it without calling again. Finding events are written through FindingRepository.update,
 * guarded by the stage kept in the finding's metadata, so each is recorded once.
 */
export async function applyRemediation(ctx: WorkerContext, body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
  const { deps, clock } = ctx;
  const message = await readMessage(ctx, body, 'remediation', REMEDIATIONS_QUEUE, delivery);
  if (!message) return { kind: 'done', result: 'rejected-message' };
  const plan = trustedPlan(message.plan);
  const { tenantId } = message;
  const log = { tenantId, findingKey: plan.findingKey, idempotencyKey: plan.idempotencyKey, messageId: delivery.messageId };

  if (deps.paused) return cancel(ctx, message, plan);

  const claim = await deps.remediations.claim(tenantId, plan, { messageId: delivery.messageId, requestedBy: message.requestedBy, approvalId: message.approvalId }, clock(), ctx.options.leaseMs);
  if (claim.outcome === 'finished') {
    deps.logger.info('duplicate remediation message: the change is already finished', { ...log, status: claim.record.status });
    return { kind: 'done', result: 'duplicate' };
  }
  if (claim.outcome === 'applied') {
    // The change was made and recorded; the verification may not have been enqueued (a crash
    // right after the record). Verifying twice is harmless, so enqueue it again.
    await enqueueVerification(ctx, message, claim.record.appliedAt ?? clock());
    return { kind: 'done', result: 'duplicate', detail: 'already applied; verification enqueued' };
  }
  if (claim.outcome === 'busy') {
    // Another message holds a live lease on this change. Its message stays in the queue until it
    // is done, and is delivered again (or poisoned and recorded) if it dies, so this duplicate can
    // go: retrying it would only count towards its own poisoning.
    deps.logger.info('duplicate remediation message: another delivery is applying the change', log);
    return { kind: 'done', result: 'duplicate', detail: 'another delivery holds the change' };
  }

  const finding = await deps.store.findings.get(tenantId, plan);
  const skip = skipReason(finding?.status, finding?.episode, plan);
  if (skip) {
    await deps.remediations.finish(tenantId, plan, 'skipped', { at: clock(), reason: skip });
    deps.logger.info('remediation skipped', { ...log, reason: skip });
    return { kind: 'done', result: 'skipped', detail: skip };
  }

  let applied: AppliedChange | undefined;
  let alreadyInPlace = false;
  try {
    // A reprocess cannot be seen in place (it changes nothing Graph shows) and is harmless to
    // send twice, so a redelivery sends it again rather than guess.
    if (claim.redelivery && plan.change.kind !== 'reprocess-licence') {
      // An earlier delivery claimed this change and never recorded an outcome: it may have died
      // after the tenant call. Look before calling again.
      const state = await targetState(ctx, plan);
      if (state.state === 'gone') {
        await deps.remediations.finish(tenantId, plan, 'skipped', { at: clock(), reason: state.reason });
        return { kind: 'done', result: 'skipped', detail: state.reason };
      }
      alreadyInPlace = state.state === 'compliant';
    }
    if (!alreadyInPlace) {
      await refuseKnownRefusal(deps.store, tenantId, plan);
      applied = await applyChange(deps.tenant, plan.change);
    }
  } catch (error) {
    return failedApply(ctx, message, plan, error);
  }
  await deps.afterApply?.(plan);

  const at = clock();
  await recordFinding(ctx, tenantId, plan, 'remediated', 'remediating', {
    type: 'remediated',
    actor: message.requestedBy,
    reason: plan.description,
    details: {
      idempotencyKey: plan.idempotencyKey,
      change: plan.description,
      ...(applied ? { sent: applied.sent, warnings: applied.warnings } : { alreadyInPlace: true }),
      ...(message.approvalId ? { approvalId: message.approvalId } : {}),
    },
  });
  await deps.remediations.markApplied(claim.record, {
    at,
    alreadyInPlace,
    sent: applied?.sent,
    warnings: applied?.warnings ?? [],
    ...directLicenceOf(plan, applied, alreadyInPlace),
  });
  await enqueueVerification(ctx, message, at);
  deps.logger.info(alreadyInPlace ? 'remediation found in place' : 'remediation applied', log);
  return { kind: 'done', result: alreadyInPlace ? 'already-in-place' : 'applied' };
}

/** The tenant call failed: retried when transient; otherwise the change ends failed (outdated) or blocked. */
async function failedApply(ctx: WorkerContext, message: RemediationMessage, plan: RemediationPlan, error: unknown): Promise<WorkerOutcome> {
  const { deps } = ctx;
  const { tenantId } = message;
  const failure = classifyFailure(error);
  if (!failure) throw error;
  if (failure.kind === 'transient') {
    deps.logger.warn('remediation will be retried', { tenantId, findingKey: plan.findingKey, reason: failure.message });
    return { kind: 'retry', delayMs: ctx.options.transientRetryMs, reason: failure.message };
  }
  const at = ctx.clock();
  const details = { idempotencyKey: plan.idempotencyKey, change: plan.description, requestedBy: message.requestedBy };
  if (failure.kind === 'outdated') {
    // Nothing was sent. The finding goes back to planning, which proposes the change as it
    // would be now; the approved one is recorded as failed with both bodies.
    await recordFinding(ctx, tenantId, plan, 'outdated', 'open', {
      type: 'failed',
      actor: ACTOR,
      reason: failure.message,
      details: { ...details, ...(message.approvalId ? { approvalId: message.approvalId } : {}) },
    });
    await deps.remediations.finish(tenantId, plan, 'failed', { at, reason: failure.message });
    deps.logger.warn('approved change no longer matches the tenant: not applied', { tenantId, findingKey: plan.findingKey });
    return { kind: 'done', result: 'failed', detail: failure.message };
  }
  const reason = failure.serviceMessage ?? failure.message;
  await recordFinding(
    ctx,
    tenantId,
    plan,
    'blocked',
    'blocked',
    {
      type: 'blocked',
      actor: ACTOR,
      reason,
      details: {
        ...details,
        ...(failure.code ? { code: failure.code } : {}),
        ...(failure.licenceRefusal ? { licenceRefusal: true } : {}),
        ...(failure.earlier ? { notSent: failure.message } : {}),
      },
    },
    failure.licenceRefusal ? { blockedBy: BLOCKED_BY_LICENCE, blockedAt: at.toISOString() } : {},
  );
  await deps.remediations.finish(tenantId, plan, 'blocked', { at, reason: failure.message, ...(failure.serviceMessage ? { serviceMessage: failure.serviceMessage } : {}) });
  // A blocked change changed nothing in the tenant, so it spends none of the night's blast radius.
  await deps.remediations.releaseBudget(tenantId, plan, at);
  if (failure.licenceRefusal && !failure.earlier && plan.objectType === 'mailbox') await learnRefusal(ctx, tenantId, plan, reason, at);
  deps.logger.info('remediation blocked', { tenantId, findingKey: plan.findingKey, reason });
  return { kind: 'done', result: 'blocked', detail: reason };
}

/** REMEDIATION_PAUSED: a message already queued is cancelled and its finding given back to planning. */
async function cancel(ctx: WorkerContext, message: RemediationMessage, plan: RemediationPlan): Promise<WorkerOutcome> {
  const reason = 'REMEDIATION_PAUSED is set: nothing was changed; the next planning run after the pause queues it again';
  await ctx.deps.remediations.finish(message.tenantId, plan, 'cancelled', { at: ctx.clock(), reason });
  await changeFinding(
    ctx.deps.store,
    message.tenantId,
    plan,
    (current) =>
      current.status === 'remediating' && current.metadata.remediationKey === plan.idempotencyKey
        ? { status: 'open', metadata: { ...current.metadata, remediationStage: 'cancelled' } }
        : undefined,
    ctx.clock,
  );
  ctx.deps.logger.warn('remediation paused: message cancelled', { tenantId: message.tenantId, findingKey: plan.findingKey });
  return { kind: 'done', result: 'cancelled', detail: reason };
}

/** The first check of an applied change, after Exchange has had a moment to show it. */
async function enqueueVerification(ctx: WorkerContext, message: RemediationMessage, appliedAt: Date): Promise<void> {
  const verification: VerificationMessage = {
    version: message.version,
    type: 'verification',
    tenantId: message.tenantId,
    plan: message.plan,
    requestedBy: message.requestedBy,
    ...(message.approvalId ? { approvalId: message.approvalId } : {}),
    appliedAt: appliedAt.toISOString(),
    attempt: 1,
  };
  await ctx.deps.queues.send(VERIFICATIONS_QUEUE, verification, { delaySeconds: ctx.options.verifyDelaySeconds });
}

/** The direct licence to record: what was sent, or, found in place on a redelivery, what the change asked for. */
function directLicenceOf(plan: RemediationPlan, applied: AppliedChange | undefined, alreadyInPlace: boolean): { directLicence?: DirectLicenceRecord } {
  if (applied?.directLicence) return { directLicence: applied.directLicence };
  if (!alreadyInPlace || plan.change.kind !== 'assign-licence') return {};
  const { userId, skuId, skuPartNumber, disabledPlans } = plan.change;
  return { directLicence: { userId, skuId, skuPartNumber, disabledPlans: [...disabledPlans] } };
}

function skipReason(status: FindingStatus | undefined, episode: number | undefined, plan: RemediationPlan): string | undefined {
  if (status === undefined) return 'the finding is not in the store';
  if (episode !== plan.episode) return `the finding has moved on to episode ${episode} (this change was planned for episode ${plan.episode})`;
  if (!isActiveStatus(status)) return `the finding is ${status} already`;
  if (status === 'excepted') return 'a policy exception now covers the finding';
  return undefined;
}
