import type { AuditPolicy } from '../config/policy';
import { AuditWardenError, describeError } from '../errors';
import type { Logger } from '../logging';
import {
  MAX_DEQUEUE_COUNT,
  QueueMessageError,
  REMEDIATIONS_QUEUE,
  VERIFICATIONS_QUEUE,
  parseQueueMessage,
  trustedPlan,
  type QueueDelivery,
  type QueueGateway,
  type RemediationMessage,
  type VerificationMessage,
} from '../queue';
import { applyChange, classifyFailure, RemediationBlockedError, type AppliedChange, type DirectLicenceRecord } from '../remediation/apply';
import type { RemediationPlan } from '../remediation/plan';
import { addsLicenceGatedAction, BLOCKED_BY_LICENCE, refusalHolds } from '../remediation/refusal';
import type { RemediationTenant } from '../remediation/tenant';
import { evaluateTarget, type TargetState } from '../remediation/verify';
import { RULES_BY_ID, evaluateMailbox, type MailboxRule } from '../rules';
import type { AuditStore } from '../store/open';
import { planObservation } from '../store/findings';
import { isActiveStatus, type DriftEventType, type FindingStatus } from '../store/model';
import { FINISHED_REMEDIATION_STATUSES, type RemediationRecord, type RemediationRepository } from '../store/remediations';
import { resolveAdvancedAuditing } from '../graph';
import { changeFinding } from './finding-changes';
import { readRefusal } from './remediation-refusals';
import { MAIL_ITEMS_ACCESSED } from '../domain/audit';
import type { FindingValue } from '../domain/finding';

/** How the queue delivered a message: the Functions trigger metadata, or the in-process drain. */
export type WorkerDelivery = QueueDelivery;

export type WorkerResult =
  | 'applied'
  | 'already-in-place'
  | 'verified'
  | 'verify-again'
  | 'blocked'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'duplicate'
  | 'rejected-message'
  | 'recorded-poison';

/**
 * What to do with the message: `done` (delete it) or `retry` (deliver it again after `delayMs`:
 * the Functions adapter throws so the host redelivers; the in-process drain hides the message).
 */
export type WorkerOutcome = { kind: 'done'; result: WorkerResult; detail?: string } | { kind: 'retry'; delayMs: number; reason: string };

export interface RemediationWorkerOptions {
  /** How long a claim keeps other messages for the same change away (a live apply; its own redelivery may take it back at once). */
  leaseMs?: number;
  /** Delay before the first verification: Exchange may take a moment to show a change. */
  verifyDelaySeconds?: number;
  /** Delay between verification attempts that still see the drift. */
  verifyRetryDelaySeconds?: number;
  /** Checks before a change that does not show is recorded as failed. */
  maxVerifyAttempts?: number;
  /** Delay before a transient failure (throttling, outage) is tried again. */
  transientRetryMs?: number;
}

export interface RemediationWorkerDeps {
  /** The tenant this app serves; a message for another tenant is refused and recorded. */
  tenantId: string;
  policy: AuditPolicy;
  /** REMEDIATION_PAUSED: messages already queued are cancelled (recorded), nothing is applied. */
  paused: boolean;
  store: AuditStore;
  remediations: RemediationRepository;
  queues: QueueGateway;
  tenant: RemediationTenant;
  logger: Logger;
  clock?: () => Date;
  options?: RemediationWorkerOptions;
  /** Test seam: runs after the tenant call and before anything is recorded (a crash there must converge). */
  afterApply?: (plan: RemediationPlan) => void | Promise<void>;
}

const ACTOR = 'audit-warden:remediation';
const VERIFIER = 'audit-warden:verification';

/** What a verified reprocess means, for the finding's history (it is not a fix, only step 1). */
const REPROCESS_VERIFIED =
  "Graph re-ran the user's group licence assignments and shows them in force. Whether Exchange now applies the licence shows at the next scan " +
  'and the next MailItemsAccessed attempt (retried now); if Exchange still refuses, a direct licence assignment is proposed for approval.';

/**
 * The remediation and verification workers, as one service the queue-triggered functions and the
 * command line's in-process drain both call.
 *
 * Apply (remediations queue): claim the change in the ledger (the intent, with a lease naming the
 * message) → call the tenant → record `remediated` on the finding → mark the ledger applied →
 * enqueue a verification. A message delivered twice finds the ledger ahead of it and does nothing
 * (or only re-enqueues the verification). A delivery that died after the tenant call and before the
 * record is redelivered with its own lease: it re-reads the object, sees the change in place, and
 * records it without calling again. Finding events are written through FindingRepository.update,
 * guarded by the stage kept in the finding's metadata, so each is recorded once.
 *
 * Verify (verifications queue): re-read the object, run the same rule; resolved only when it
 * passes, else checked again a few times, then failed.
 */
export class RemediationWorker {
  private readonly clock: () => Date;
  private readonly options: Required<RemediationWorkerOptions>;

  constructor(private readonly deps: RemediationWorkerDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.options = {
      leaseMs: 5 * 60_000,
      verifyDelaySeconds: 15,
      verifyRetryDelaySeconds: 60,
      maxVerifyAttempts: 3,
      transientRetryMs: 5_000,
      ...definedOnly(deps.options ?? {}),
    };
  }

  async handleRemediation(body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
    const message = await this.parse(body, 'remediation', REMEDIATIONS_QUEUE, delivery);
    if (!message) return { kind: 'done', result: 'rejected-message' };
    const plan = trustedPlan(message.plan);
    const { tenantId } = message;
    const log = { tenantId, findingKey: plan.findingKey, idempotencyKey: plan.idempotencyKey, messageId: delivery.messageId };

    if (this.deps.paused) return this.cancel(message, plan);

    const claim = await this.deps.remediations.claim(tenantId, plan, { messageId: delivery.messageId, requestedBy: message.requestedBy, approvalId: message.approvalId }, this.clock(), this.options.leaseMs);
    if (claim.outcome === 'finished') {
      this.deps.logger.info('duplicate remediation message: the change is already finished', { ...log, status: claim.record.status });
      return { kind: 'done', result: 'duplicate' };
    }
    if (claim.outcome === 'applied') {
      // The change was made and recorded; the verification may not have been enqueued (a crash
      // right after the record). Verifying twice is harmless, so enqueue it again.
      await this.enqueueVerification(message, claim.record.appliedAt ?? this.clock(), 1);
      return { kind: 'done', result: 'duplicate', detail: 'already applied; verification enqueued' };
    }
    if (claim.outcome === 'busy') {
      // Another message holds a live lease on this change. Its message stays in the queue until it
      // is done, and is delivered again (or poisoned and recorded) if it dies, so this duplicate can
      // go: retrying it would only count towards its own poisoning.
      this.deps.logger.info('duplicate remediation message: another delivery is applying the change', log);
      return { kind: 'done', result: 'duplicate', detail: 'another delivery holds the change' };
    }

    const finding = await this.deps.store.findings.get(tenantId, plan);
    const skip = skipReason(finding?.status, finding?.episode, plan);
    if (skip) {
      await this.deps.remediations.finish(tenantId, plan, 'skipped', { at: this.clock(), reason: skip });
      this.deps.logger.info('remediation skipped', { ...log, reason: skip });
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
        const state = await this.target(plan);
        if (state.state === 'gone') {
          await this.deps.remediations.finish(tenantId, plan, 'skipped', { at: this.clock(), reason: state.reason });
          return { kind: 'done', result: 'skipped', detail: state.reason };
        }
        alreadyInPlace = state.state === 'compliant';
      }
      if (!alreadyInPlace) {
        await this.refuseKnownRefusal(tenantId, plan);
        applied = await applyChange(this.deps.tenant, plan.change);
      }
    } catch (error) {
      return this.failedApply(message, plan, error);
    }
    await this.deps.afterApply?.(plan);

    const at = this.clock();
    await this.recordFinding(tenantId, plan, 'remediated', 'remediating', {
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
    await this.deps.remediations.markApplied(claim.record, {
      at,
      alreadyInPlace,
      sent: applied?.sent,
      warnings: applied?.warnings ?? [],
      ...directLicenceOf(plan, applied, alreadyInPlace),
    });
    await this.enqueueVerification(message, at, 1);
    this.deps.logger.info(alreadyInPlace ? 'remediation found in place' : 'remediation applied', log);
    return { kind: 'done', result: alreadyInPlace ? 'already-in-place' : 'applied' };
  }

  async handleVerification(body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
    const message = await this.parse(body, 'verification', VERIFICATIONS_QUEUE, delivery);
    if (!message) return { kind: 'done', result: 'rejected-message' };
    const plan = trustedPlan(message.plan);
    const { tenantId } = message;
    const record = await this.deps.remediations.get(tenantId, plan.objectId, plan.idempotencyKey);
    if (record && record.status !== 'applied') return { kind: 'done', result: 'duplicate', detail: `the change is ${record.status}` };

    let state: TargetState;
    try {
      state = await this.target(plan);
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure?.kind === 'transient') return { kind: 'retry', delayMs: this.options.transientRetryMs, reason: failure.message };
      throw error;
    }
    const at = this.clock();
    if (state.state === 'gone') {
      await this.deps.remediations.finish(tenantId, plan, 'skipped', { at, reason: state.reason });
      return { kind: 'done', result: 'skipped', detail: state.reason };
    }
    if (state.state === 'compliant' && plan.change.kind === 'reprocess-licence') {
      // Step 1 of the licence fix went through; the drift itself is not known to be gone, so the
      // finding stays open for the next scan to judge (and the planner to take step 2 if needed).
      await this.recordFinding(tenantId, plan, 'verified', 'open', {
        type: 'verified',
        actor: VERIFIER,
        reason: REPROCESS_VERIFIED,
        details: { idempotencyKey: plan.idempotencyKey, change: plan.description, attempt: message.attempt, requestedBy: message.requestedBy },
      });
      if (!(await this.finishVerification(tenantId, plan, record, 'verified', { at }))) return { kind: 'done', result: 'duplicate', detail: 'verified by another delivery' };
      await this.afterLicenceChanged(tenantId, plan, at);
      return { kind: 'done', result: 'verified' };
    }
    if (state.state === 'compliant') {
      await this.recordFinding(tenantId, plan, 'verified', 'resolved', {
        type: 'verified',
        actor: VERIFIER,
        reason: `re-read after the change: ${RULES_BY_ID[plan.ruleId].id} passes`,
        details: { idempotencyKey: plan.idempotencyKey, change: plan.description, attempt: message.attempt, requestedBy: message.requestedBy },
      });
      if (!(await this.finishVerification(tenantId, plan, record, 'verified', { at }))) return { kind: 'done', result: 'duplicate', detail: 'verified by another delivery' };
      if (plan.ruleId === 'licence-inherited-blocks-mia') await this.afterLicenceChanged(tenantId, plan, at);
      else if (addsMailItemsAccessed(plan)) {
        // Exchange accepted MailItemsAccessed: whatever it refused before no longer holds.
        await this.deps.store.mailboxes.clearMailItemsAccessedRefusal(tenantId, plan.objectId);
      }
      return { kind: 'done', result: 'verified' };
    }
    if (message.attempt < this.options.maxVerifyAttempts) {
      await this.deps.queues.send(VERIFICATIONS_QUEUE, { ...message, attempt: message.attempt + 1 }, { delaySeconds: this.options.verifyRetryDelaySeconds });
      return { kind: 'done', result: 'verify-again' };
    }
    const reason = verificationFailure(plan, state.finding.actual, message.attempt);
    await this.recordFinding(tenantId, plan, 'failed', 'failed', {
      type: 'failed',
      actor: VERIFIER,
      reason,
      details: { idempotencyKey: plan.idempotencyKey, change: plan.description, expected: state.finding.expected, actual: state.finding.actual },
    });
    if (!(await this.finishVerification(tenantId, plan, record, 'failed', { at, reason }))) return { kind: 'done', result: 'duplicate', detail: 'finished by another delivery' };
    this.deps.logger.warn('remediation did not verify', { tenantId, findingKey: plan.findingKey, reason });
    return { kind: 'done', result: 'failed', detail: reason };
  }

  /**
   * A message that exhausted its deliveries (the host moved it to `<queue>-poison`). A readable
   * one fails its change (recorded on the finding and in the ledger); any message is recorded as a
   * dead letter. Never throws for a bad message: the poison queue has no poison queue.
   */
  async handlePoison(queue: string, body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
    const type = queue.startsWith(VERIFICATIONS_QUEUE) ? 'verification' : 'remediation';
    let message: RemediationMessage | VerificationMessage | undefined;
    let parseError: QueueMessageError | undefined;
    try {
      message = parseQueueMessage(body, type);
    } catch (error) {
      if (!(error instanceof QueueMessageError)) throw error;
      parseError = error;
    }
    const at = this.clock();
    const reason = `the ${type} message failed ${MAX_DEQUEUE_COUNT} deliveries and was moved to ${queue}`;
    await this.deps.remediations.recordDeadLetter({
      at,
      queue,
      messageId: delivery.messageId,
      dequeueCount: delivery.dequeueCount,
      text: textOf(body),
      error: parseError ? parseError.message : reason,
      issues: parseError?.issues ?? [],
      ...(message ? { tenantId: message.tenantId, idempotencyKey: message.plan.idempotencyKey } : {}),
    });
    if (message) {
      const plan = trustedPlan(message.plan);
      const record = await this.deps.remediations.get(message.tenantId, plan.objectId, plan.idempotencyKey);
      // A poisoned duplicate of a change that finished must not overwrite its outcome.
      if (!record || !FINISHED_REMEDIATION_STATUSES.has(record.status)) {
        await this.recordFinding(message.tenantId, plan, 'failed', 'failed', {
          type: 'failed',
          actor: ACTOR,
          reason,
          details: { idempotencyKey: plan.idempotencyKey, change: plan.description, queue, messageId: delivery.messageId },
        });
        await this.deps.remediations.finish(message.tenantId, plan, 'failed', { at, reason });
      }
    }
    this.deps.logger.error('poison message recorded', { queue, messageId: delivery.messageId, reason: parseError?.message ?? reason });
    return { kind: 'done', result: 'recorded-poison' };
  }

  /** The same worker logging to another logger (a Functions invocation's), sharing everything else. */
  withLogger(logger: Logger): RemediationWorker {
    return new RemediationWorker({ ...this.deps, logger });
  }

  /** A message that cannot even be decoded (not base64): recorded, never retried. */
  async recordUnreadable(queue: string, text: string, delivery: WorkerDelivery, error: QueueMessageError): Promise<WorkerOutcome> {
    await this.deps.remediations.recordDeadLetter({
      at: this.clock(),
      queue,
      messageId: delivery.messageId,
      dequeueCount: delivery.dequeueCount,
      text,
      error: error.message,
      issues: error.issues,
    });
    this.deps.logger.error('unreadable queue message recorded', { queue, messageId: delivery.messageId, error: error.message });
    return { kind: 'done', result: 'rejected-message' };
  }

  private async parse<T extends 'remediation' | 'verification'>(
    body: unknown,
    type: T,
    queue: string,
    delivery: WorkerDelivery,
  ): Promise<Extract<RemediationMessage | VerificationMessage, { type: T }> | undefined> {
    let problem: QueueMessageError;
    try {
      const message = parseQueueMessage(body, type);
      if (message.tenantId.toLowerCase() === this.deps.tenantId.toLowerCase()) return message;
      problem = new QueueMessageError(`The message is for tenant ${message.tenantId}; this app serves ${this.deps.tenantId}.`, ['tenantId: another tenant']);
    } catch (error) {
      if (!(error instanceof QueueMessageError)) throw error;
      problem = error;
    }
    await this.recordUnreadable(queue, textOf(body), delivery, problem);
    return undefined;
  }

  /** The verification's outcome in the ledger; false when another delivery recorded one first. */
  private async finishVerification(
    tenantId: string,
    plan: RemediationPlan,
    record: RemediationRecord | undefined,
    status: 'verified' | 'failed',
    detail: { at: Date; reason?: string },
  ): Promise<boolean> {
    if (record) return this.deps.remediations.finishFrom(record, status, detail);
    await this.deps.remediations.finish(tenantId, plan, status, detail);
    return true;
  }

  private target(plan: RemediationPlan): Promise<TargetState> {
    return evaluateTarget(plan, {
      tenant: this.deps.tenant,
      policy: this.deps.policy,
      now: this.clock(),
      mailItemsAccessedRefused: async (objectId) => Boolean((await this.deps.store.mailboxes.current(this.deps.tenantId, objectId))?.miaRefusedAt),
    });
  }

  private async failedApply(message: RemediationMessage, plan: RemediationPlan, error: unknown): Promise<WorkerOutcome> {
    const failure = classifyFailure(error);
    if (!failure) throw error;
    if (failure.kind === 'transient') {
      this.deps.logger.warn('remediation will be retried', { tenantId: message.tenantId, findingKey: plan.findingKey, reason: failure.message });
      return { kind: 'retry', delayMs: this.options.transientRetryMs, reason: failure.message };
    }
    const at = this.clock();
    if (failure.kind === 'outdated') {
      // Nothing was sent. The finding goes back to planning, which proposes the change as it
      // would be now; the approved one is recorded as failed with both bodies.
      await this.recordFinding(message.tenantId, plan, 'outdated', 'open', {
        type: 'failed',
        actor: ACTOR,
        reason: failure.message,
        details: { idempotencyKey: plan.idempotencyKey, change: plan.description, requestedBy: message.requestedBy, ...(message.approvalId ? { approvalId: message.approvalId } : {}) },
      });
      await this.deps.remediations.finish(message.tenantId, plan, 'failed', { at, reason: failure.message });
      this.deps.logger.warn('approved change no longer matches the tenant: not applied', { tenantId: message.tenantId, findingKey: plan.findingKey });
      return { kind: 'done', result: 'failed', detail: failure.message };
    }
    const reason = failure.serviceMessage ?? failure.message;
    await this.recordFinding(
      message.tenantId,
      plan,
      'blocked',
      'blocked',
      {
        type: 'blocked',
        actor: ACTOR,
        reason,
        details: {
          idempotencyKey: plan.idempotencyKey,
          change: plan.description,
          requestedBy: message.requestedBy,
          ...(failure.code ? { code: failure.code } : {}),
          ...(failure.licenceRefusal ? { licenceRefusal: true } : {}),
          ...(failure.earlier ? { notSent: failure.message } : {}),
        },
      },
      failure.licenceRefusal ? { blockedBy: BLOCKED_BY_LICENCE, blockedAt: at.toISOString() } : {},
    );
    await this.deps.remediations.finish(message.tenantId, plan, 'blocked', { at, reason: failure.message, ...(failure.serviceMessage ? { serviceMessage: failure.serviceMessage } : {}) });
    // A blocked change changed nothing in the tenant, so it spends none of the night's blast radius.
    await this.deps.remediations.releaseBudget(message.tenantId, plan, at);
    if (failure.licenceRefusal && !failure.earlier && plan.objectType === 'mailbox') await this.learnRefusal(message.tenantId, plan, reason, at);
    this.deps.logger.info('remediation blocked', { tenantId: message.tenantId, findingKey: plan.findingKey, reason });
    return { kind: 'done', result: 'blocked', detail: reason };
  }

  /**
   * Exchange refused a licence-gated action (MailItemsAccessed, Send) for this mailbox before, and
   * nothing that bears on it changed since (remediation/refusal.ts): the change ends blocked
   * without being sent again. A message planned before the refusal was learned (another logon
   * type's, queued the same night) is caught here; the planner catches the rest.
   */
  private async refuseKnownRefusal(tenantId: string, plan: RemediationPlan): Promise<void> {
    if (plan.objectType !== 'mailbox' || !addsLicenceGatedAction(plan.change)) return;
    const refusal = await readRefusal(this.deps.store, tenantId, plan.objectId);
    if (!refusalHolds(refusal)) return;
    throw new RemediationBlockedError(
      `Not sent: Exchange refused MailItemsAccessed for ${plan.userPrincipalName || plan.objectId} on ${refusal!.miaRefusedAt}, and nothing about the mailbox's licence has changed since.`,
      refusal!.miaRefusedReason,
      true,
    );
  }

  /**
   * Exchange refused MailItemsAccessed for want of a licence it can see. Recorded on the mailbox
   * (the next scan's ScanMemory.mailItemsAccessedRefused), and the licence finding is opened now
   * when the licence rule, given the refusal, reports the group-licensing failure.
   */
  private async learnRefusal(tenantId: string, plan: RemediationPlan, reason: string, at: Date): Promise<void> {
    await this.deps.store.mailboxes.recordMailItemsAccessedRefusal(tenantId, plan.objectId, { at, reason, userPrincipalName: plan.userPrincipalName });
    try {
      const mailbox = await this.deps.tenant.getMailbox(plan.objectId);
      const user = mailbox ? await this.deps.tenant.getUser(mailbox.objectId) : undefined;
      if (!mailbox || !user || user.assignedLicenses.length === 0) return;
      const licence = resolveAdvancedAuditing(user, await this.deps.tenant.skusWithAdvancedAuditing());
      const organization = await this.deps.tenant.getOrganization();
      const evaluation = evaluateMailbox(
        { mailbox, licence, organization, policy: this.deps.policy, mailItemsAccessedRefused: true },
        at,
        [RULES_BY_ID['licence-inherited-blocks-mia'] as MailboxRule],
      );
      const ctx = { tenantId, at, actor: ACTOR };
      for (const finding of evaluation.findings) {
        await this.deps.store.findings.apply(tenantId, finding, (state) => planObservation(state, finding, undefined, ctx));
      }
    } catch (error) {
      // The refusal is recorded; the next scan opens the licence finding if this could not.
      this.deps.logger.warn('could not open the licence finding after a refusal', { tenantId, objectId: plan.objectId, error: describeError(error) });
    }
  }

  /**
   * The licence changed (a direct assignment verified, or the group assignments re-run): forget the
   * refusal and retry, once, what it blocked — the retry is how Exchange tells whether it now
   * applies the licence.
   */
  private async afterLicenceChanged(tenantId: string, plan: RemediationPlan, at: Date): Promise<void> {
    await this.deps.store.mailboxes.clearMailItemsAccessedRefusal(tenantId, plan.objectId);
    const blocked = await this.deps.store.findings.list(tenantId, { mailbox: plan.objectId, status: 'blocked' }, { pageSize: 100 });
    // Findings blocked before the refusal was marked in metadata are the MailItemsAccessed ones.
    const byRefusal = blocked.items.filter((finding) => finding.metadata.blockedBy === BLOCKED_BY_LICENCE || finding.ruleId === 'mailitemsaccessed-missing');
    for (const finding of byRefusal) {
      await changeFinding(
        this.deps.store,
        tenantId,
        finding,
        (current) =>
          current.status === 'blocked'
            ? { status: 'open', metadata: { ...current.metadata, unblockedBy: plan.idempotencyKey, unblockedAt: at.toISOString() } }
            : undefined,
        this.clock,
      );
    }
  }

  private async cancel(message: RemediationMessage, plan: RemediationPlan): Promise<WorkerOutcome> {
    const reason = 'REMEDIATION_PAUSED is set: nothing was changed; the next planning run after the pause queues it again';
    await this.deps.remediations.finish(message.tenantId, plan, 'cancelled', { at: this.clock(), reason });
    await changeFinding(
      this.deps.store,
      message.tenantId,
      plan,
      (current) =>
        current.status === 'remediating' && current.metadata.remediationKey === plan.idempotencyKey
          ? { status: 'open', metadata: { ...current.metadata, remediationStage: 'cancelled' } }
          : undefined,
      this.clock,
    );
    this.deps.logger.warn('remediation paused: message cancelled', { tenantId: message.tenantId, findingKey: plan.findingKey });
    return { kind: 'done', result: 'cancelled', detail: reason };
  }

  private async enqueueVerification(message: RemediationMessage, appliedAt: Date, attempt: number): Promise<void> {
    const verification: VerificationMessage = {
      version: message.version,
      type: 'verification',
      tenantId: message.tenantId,
      plan: message.plan,
      requestedBy: message.requestedBy,
      ...(message.approvalId ? { approvalId: message.approvalId } : {}),
      appliedAt: appliedAt.toISOString(),
      attempt,
    };
    await this.deps.queues.send(VERIFICATIONS_QUEUE, verification, { delaySeconds: this.options.verifyDelaySeconds });
  }

  /**
   * Moves the finding to `status` with one drift event, once: the stage and key in the finding's
   * metadata are written with the event (one ETag-guarded row write), so a redelivery sees it.
   * A finding of another episode, or no longer active (a scan resolved it), is left alone.
   */
  private async recordFinding(
    tenantId: string,
    plan: RemediationPlan,
    stage: string,
    status: FindingStatus,
    event: { type: DriftEventType; actor: string; reason: string; details: Record<string, unknown> },
    metadata: Record<string, FindingValue> = {},
  ): Promise<void> {
    await changeFinding(this.deps.store, tenantId, plan, (current) => {
      if (current.episode !== plan.episode || !isActiveStatus(current.status)) return undefined;
      if (current.metadata.remediationKey === plan.idempotencyKey && current.metadata.remediationStage === stage) return undefined;
      return {
        status,
        metadata: { ...current.metadata, ...metadata, remediationKey: plan.idempotencyKey, remediationStage: stage },
        event: { ...event, at: this.clock() },
      };
    }, this.clock);
  }
}

/** Thrown by the queue-triggered functions for a `retry` outcome: the host delivers the message again. */
export class RemediationRetryError extends AuditWardenError {
  override readonly name = 'RemediationRetryError';
  constructor(readonly reason: string) {
    super(`The message will be delivered again: ${reason}`);
  }
}

/** For the Functions adapters: a `retry` outcome becomes a failed invocation, which the host retries. */
export function settleOrThrow(outcome: WorkerOutcome): WorkerOutcome {
  if (outcome.kind === 'retry') throw new RemediationRetryError(outcome.reason);
  return outcome;
}

/** The direct licence to record: what was sent, or, found in place on a redelivery, what the change asked for. */
function directLicenceOf(plan: RemediationPlan, applied: AppliedChange | undefined, alreadyInPlace: boolean): { directLicence?: DirectLicenceRecord } {
  if (applied?.directLicence) return { directLicence: applied.directLicence };
  if (!alreadyInPlace || plan.change.kind !== 'assign-licence') return {};
  const { userId, skuId, skuPartNumber, disabledPlans } = plan.change;
  return { directLicence: { userId, skuId, skuPartNumber, disabledPlans: [...disabledPlans] } };
}

function addsMailItemsAccessed(plan: RemediationPlan): boolean {
  const change = plan.change;
  if (change.kind !== 'set-mailbox' || !change.addActions) return false;
  return Object.values(change.addActions).some((actions) => actions?.some((action) => action.toLowerCase() === MAIL_ITEMS_ACCESSED.toLowerCase()));
}

function skipReason(status: FindingStatus | undefined, episode: number | undefined, plan: RemediationPlan): string | undefined {
  if (status === undefined) return 'the finding is not in the store';
  if (episode !== plan.episode) return `the finding has moved on to episode ${episode} (this change was planned for episode ${plan.episode})`;
  if (!isActiveStatus(status)) return `the finding is ${status} already`;
  if (status === 'excepted') return 'a policy exception now covers the finding';
  return undefined;
}

function verificationFailure(plan: RemediationPlan, actual: unknown, attempts: number): string {
  const base = `after the change, ${plan.ruleId} still reports ${JSON.stringify(actual)} (${attempts} checks)`;
  if (plan.change.kind === 'set-mailbox' && plan.change.defaultAuditSet && plan.ruleId === 'mailitemsaccessed-missing') {
    // REFERENCE.md §8: a reset to the default set has been seen without MailItemsAccessed.
    return `${base}; Microsoft's managed set did not bring MailItemsAccessed back — set policy.preferDefaultAuditSet to false to add it explicitly`;
  }
  return base;
}

function textOf(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  try {
    return JSON.stringify(body) ?? String(body);
  } catch {
    return String(body);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
