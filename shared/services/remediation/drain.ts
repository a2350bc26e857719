import { describeError } from '../../errors';
import type { Logger } from '../../logging';
import {
  MAX_DEQUEUE_COUNT,
  QueueMessageError,
  REMEDIATIONS_POISON_QUEUE,
  REMEDIATIONS_QUEUE,
  VERIFICATIONS_POISON_QUEUE,
  VERIFICATIONS_QUEUE,
  decodeQueueMessageText,
  poisonQueueOf,
  type QueueGateway,
  type ReceivedQueueMessage,
} from '../../queue';
import type { RemediationWorker } from './worker';
import type { WorkerOutcome, WorkerResult } from './worker-context';

/**
 * Runs the remediation pipeline in-process, without the Functions host: receives from the
 * remediation and verification queues and their poison queues, calls the same worker the queue
 * triggers call, and treats each message as the host would — deleted when handled, made visible
 * again after a delay when it must be retried, moved to `<queue>-poison` after MAX_DEQUEUE_COUNT
 * deliveries. Messages are handled concurrently (bounded); the Exchange client's own limit keeps
 * the tenant's calls within its concurrency budget whatever this bound is.
 */
export interface DrainOptions {
  /** Messages handled at once (default 16). */
  concurrency?: number;
  /** How long a received message stays hidden from other consumers while it is handled (default 300 s). */
  visibilitySeconds?: number;
  /** Caps every retry delay (tests set it near zero; the host's own delay is host.json's visibilityTimeout). */
  maxRetryDelayMs?: number;
  maxDequeueCount?: number;
  /** Poll interval while only hidden (delayed) messages remain (default 250 ms). */
  idleWaitMs?: number;
  /** Stop after this long, reporting what is left (default 30 minutes). */
  timeoutMs?: number;
  onProgress?: (progress: DrainProgress) => void;
  progressIntervalMs?: number;
  logger?: Logger;
}

export type DrainCounts = Partial<Record<WorkerResult | 'retried' | 'poisoned' | 'errors', number>>;

export interface DrainProgress {
  counts: DrainCounts;
  handled: number;
  inFlight: number;
}

export interface DrainReport {
  counts: DrainCounts;
  handled: number;
  /** Messages still in the queues when the drain stopped (0 unless it timed out). */
  remaining: number;
  timedOut: boolean;
  wallMs: number;
}

const QUEUES = [REMEDIATIONS_QUEUE, VERIFICATIONS_QUEUE, REMEDIATIONS_POISON_QUEUE, VERIFICATIONS_POISON_QUEUE] as const;

export async function drainQueues(worker: RemediationWorker, queues: QueueGateway, options: DrainOptions = {}): Promise<DrainReport> {
  const started = Date.now();
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const visibility = options.visibilitySeconds ?? 300;
  const maxDequeue = options.maxDequeueCount ?? MAX_DEQUEUE_COUNT;
  const maxDelay = options.maxRetryDelayMs ?? 60_000;
  const idleWait = options.idleWaitMs ?? 250;
  const deadline = started + (options.timeoutMs ?? 30 * 60_000);
  const counts: DrainCounts = {};
  const count = (key: keyof DrainCounts) => (counts[key] = (counts[key] ?? 0) + 1);
  let handled = 0;
  let busy = 0;
  let timedOut = false;
  const buffer: Array<{ queue: string; message: ReceivedQueueMessage }> = [];
  let refilling: Promise<boolean> | undefined;

  await Promise.all(QUEUES.map((queue) => queues.ensure(queue)));

  let turn = 0;
  const refill = (): Promise<boolean> => {
    refilling ??= (async () => {
      try {
        // Start from the next queue each time, so verifications interleave with remediations
        // instead of waiting for the remediations queue to empty.
        turn = (turn + 1) % QUEUES.length;
        for (const queue of [...QUEUES.slice(turn), ...QUEUES.slice(0, turn)]) {
          const received = await queues.receive(queue, 32, visibility);
          for (const message of received) buffer.push({ queue, message });
          if (received.length > 0) return true;
        }
        return false;
      } finally {
        refilling = undefined;
      }
    })();
    return refilling;
  };

  const settle = async (queue: string, message: ReceivedQueueMessage, outcome: WorkerOutcome): Promise<void> => {
    if (outcome.kind === 'done') {
      count(outcome.result);
      await queues.delete(queue, message);
      return;
    }
    await retry(queue, message, outcome.delayMs);
  };

  const retry = async (queue: string, message: ReceivedQueueMessage, delayMs: number): Promise<void> => {
    const poisonQueue = queue.endsWith('-poison');
    if (!poisonQueue && message.dequeueCount >= maxDequeue) {
      // What the host does after maxDequeueCount failed deliveries: the poison handler records it.
      await queues.sendRaw(poisonQueueOf(queue), message.text);
      await queues.delete(queue, message);
      count('poisoned');
      return;
    }
    count('retried');
    await queues.release(queue, message, Math.min(delayMs, maxDelay) / 1000);
  };

  const handle = async (queue: string, message: ReceivedQueueMessage): Promise<void> => {
    const delivery = { messageId: message.messageId, dequeueCount: message.dequeueCount };
    try {
      let outcome: WorkerOutcome;
      if (queue === REMEDIATIONS_POISON_QUEUE || queue === VERIFICATIONS_POISON_QUEUE) {
        let body: string = message.text;
        try {
          body = decodeQueueMessageText(message.text);
        } catch {
          // Recorded as received: the poison handler reports that it cannot read it.
        }
        outcome = await worker.handlePoison(queue, body, delivery);
      } else {
        let text: string | undefined;
        try {
          text = decodeQueueMessageText(message.text);
        } catch (error) {
          if (!(error instanceof QueueMessageError)) throw error;
          outcome = await worker.recordUnreadable(queue, message.text, delivery, error);
        }
        if (text !== undefined) {
          outcome = queue === REMEDIATIONS_QUEUE ? await worker.handleRemediation(text, delivery) : await worker.handleVerification(text, delivery);
        }
      }
      await settle(queue, message, outcome!);
    } catch (error) {
      count('errors');
      options.logger?.warn('a queue message failed and will be delivered again', { queue, messageId: message.messageId, dequeueCount: message.dequeueCount, error: describeError(error) });
      try {
        await retry(queue, message, Math.min(60_000, 1000 * 2 ** message.dequeueCount));
      } catch (releaseError) {
        // The message becomes visible again when its visibility timeout ends; nothing is lost.
        options.logger?.warn('could not release a failed message', { queue, error: describeError(releaseError) });
      }
    } finally {
      handled += 1;
    }
  };

  const drained = async (): Promise<boolean> => {
    if (busy > 0 || buffer.length > 0) return false;
    const remaining = await Promise.all(QUEUES.map((queue) => queues.approximateCount(queue)));
    return remaining.every((value) => value === 0) && busy === 0 && buffer.length === 0;
  };

  const lane = async (): Promise<void> => {
    for (;;) {
      if (Date.now() > deadline) {
        timedOut = true;
        return;
      }
      const next = buffer.shift();
      if (next) {
        busy += 1;
        try {
          await handle(next.queue, next.message);
        } finally {
          busy -= 1;
        }
        continue;
      }
      if (await refill()) continue;
      if (await drained()) return;
      await new Promise((resolve) => setTimeout(resolve, idleWait));
    }
  };

  const timer = options.onProgress
    ? setInterval(() => options.onProgress?.({ counts: { ...counts }, handled, inFlight: busy }), options.progressIntervalMs ?? 1000)
    : undefined;
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    if (timer) clearInterval(timer);
  }
  // Messages taken but not handled when time ran out go back to the queue at once.
  for (const { queue, message } of buffer.splice(0)) await queues.release(queue, message, 0);
  const remaining = timedOut ? (await Promise.all(QUEUES.map((queue) => queues.approximateCount(queue)))).reduce((a, b) => a + b, 0) : 0;
  options.onProgress?.({ counts: { ...counts }, handled, inFlight: 0 });
  return { counts, handled, remaining, timedOut, wallMs: Date.now() - started };
}
