import { AuditWardenError } from '../../errors';
import type { Logger } from '../../logging';
import type { QueueMessageError } from '../../queue';
import { applyRemediation } from './apply-change';
import { recordPoison, recordUnreadable } from './dead-letters';
import { verifyChange } from './verify-change';
import { workerContext, type RemediationWorkerDeps, type WorkerContext, type WorkerDelivery, type WorkerOutcome } from './worker-context';

/**
 * The queue-side use cases behind one object, built once by the composition root: the
 * queue-triggered functions (functions/lib/queue-handlers.ts) and the command line's in-process
 * drain (drain.ts) both call it. Each method is one use case: apply-change.ts, verify-change.ts,
 * dead-letters.ts.
 */
export class RemediationWorker {
  private readonly ctx: WorkerContext;

  constructor(private readonly deps: RemediationWorkerDeps) {
    this.ctx = workerContext(deps);
  }

  /** A message on the remediations queue: apply its change once. */
  handleRemediation(body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
    return applyRemediation(this.ctx, body, delivery);
  }

  /** A message on the verifications queue: check that the change shows. */
  handleVerification(body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
    return verifyChange(this.ctx, body, delivery);
  }

  /** A message on `<queue>-poison`: record it, and fail its change. */
  handlePoison(queue: string, body: unknown, delivery: WorkerDelivery): Promise<WorkerOutcome> {
    return recordPoison(this.ctx, queue, body, delivery);
  }

  /** A message that cannot even be decoded (not base64): recorded, never retried. */
  recordUnreadable(queue: string, text: string, delivery: WorkerDelivery, error: QueueMessageError): Promise<WorkerOutcome> {
    return recordUnreadable(this.ctx, queue, text, delivery, error);
  }

  /** The same worker logging to another logger (a Functions invocation's), sharing everything else. */
  withLogger(logger: Logger): RemediationWorker {
    return new RemediationWorker({ ...this.deps, logger });
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
