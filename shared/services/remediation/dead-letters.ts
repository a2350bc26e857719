import {
  MAX_DEQUEUE_COUNT,
  QueueMessageError,
  VERIFICATIONS_QUEUE,
  parseQueueMessage,
  trustedPlan,
  type RemediationMessage,
  type VerificationMessage,
} from '../../queue';
import { FINISHED_REMEDIATION_STATUSES, type DeadLetter } from '../../store/remediations';
import { ACTOR, recordFinding, type WorkerContext, type WorkerDelivery, type WorkerOutcome } from './worker-context';

/**
 * Dead letters: messages the pipeline cannot or will not handle are recorded (the remediations
 * table's dead-letter rows, for `audit-warden` and the dashboard to show), never retried forever.
 * A message that exhausted its deliveries also fails its change, on the finding and in the ledger.
 */

type QueueMessageType = 'remediation' | 'verification';

/**
 * Reads a message for this tenant; one that is malformed, of another version or for another
 * tenant is recorded as a dead letter and gives undefined (its message is then deleted).
 */
export async function readMessage<T extends QueueMessageType>(
  ctx: WorkerContext,
  body: unknown,
  type: T,
  queue: string,
  delivery: WorkerDelivery,
): Promise<Extract<RemediationMessage | VerificationMessage, { type: T }> | undefined> {
  const { tenantId } = ctx.deps;
  let problem: QueueMessageError;
  try {
    const message = parseQueueMessage(body, type);
    if (message.tenantId.toLowerCase() === tenantId.toLowerCase()) return message;
    problem = new QueueMessageError(`The message is for tenant ${message.tenantId}; this app serves ${tenantId}.`, ['tenantId: another tenant']);
  } catch (error) {
    if (!(error instanceof QueueMessageError)) throw error;
    problem = error;
  }
  await recordUnreadable(ctx, queue, textOf(body), delivery, problem);
  return undefined;
}

/** A message that cannot even be decoded (not base64), or not read as ours: recorded, never retried. */
export async function recordUnreadable(ctx: WorkerContext, queue: string, text: string, delivery: WorkerDelivery, error: QueueMessageError): Promise<WorkerOutcome> {
  await recordDeadLetter(ctx, queue, delivery, { at: ctx.clock(), text, error: error.message, issues: error.issues });
  ctx.deps.logger.error('unreadable queue message recorded', { queue, messageId: delivery.messageId, error: error.message });
  return { kind: 'done', result: 'rejected-message' };
}

/**
 * A message that exhausted its deliveries (the host moved it to `<queue>-poison`). A readable
 * one fails its change (recorded on the finding and in the ledger); any message is recorded as a
 * dead letter. Never throws for a bad message: the poison queue has no poison queue.
 */
export async function recordPoison(ctx: WorkerContext, queue: string, body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
  const { remediations, logger } = ctx.deps;
  const type: QueueMessageType = queue.startsWith(VERIFICATIONS_QUEUE) ? 'verification' : 'remediation';
  let message: RemediationMessage | VerificationMessage | undefined;
  let parseError: QueueMessageError | undefined;
  try {
    message = parseQueueMessage(body, type);
  } catch (error) {
    if (!(error instanceof QueueMessageError)) throw error;
    parseError = error;
  }
  const at = ctx.clock();
  const reason = `the ${type} message failed ${MAX_DEQUEUE_COUNT} deliveries and was moved to ${queue}`;
  await recordDeadLetter(ctx, queue, delivery, {
    at,
    text: textOf(body),
    error: parseError ? parseError.message : reason,
    issues: parseError?.issues ?? [],
    ...(message ? { tenantId: message.tenantId, idempotencyKey: message.plan.idempotencyKey } : {}),
  });
  if (message) {
    const plan = trustedPlan(message.plan);
    const record = await remediations.get(message.tenantId, plan.objectId, plan.idempotencyKey);
    // A poisoned duplicate of a change that finished must not overwrite its outcome.
    if (!record || !FINISHED_REMEDIATION_STATUSES.has(record.status)) {
      await recordFinding(ctx, message.tenantId, plan, 'failed', 'failed', {
        type: 'failed',
        actor: ACTOR,
        reason,
        details: { idempotencyKey: plan.idempotencyKey, change: plan.description, queue, messageId: delivery.messageId },
      });
      await remediations.finish(message.tenantId, plan, 'failed', { at, reason });
    }
  }
  logger.error('poison message recorded', { queue, messageId: delivery.messageId, reason: parseError?.message ?? reason });
  return { kind: 'done', result: 'recorded-poison' };
}

async function recordDeadLetter(
  ctx: WorkerContext,
  queue: string,
  delivery: WorkerDelivery,
  letter: Omit<DeadLetter, 'queue' | 'messageId' | 'dequeueCount'>,
): Promise<void> {
  await ctx.deps.remediations.recordDeadLetter({ ...letter, queue, messageId: delivery.messageId, dequeueCount: delivery.dequeueCount });
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
