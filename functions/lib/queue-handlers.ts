import type { InvocationContext } from '@azure/functions';
import { loggerFrom } from '../../shared/logging';
import { deliveryFromTriggerMetadata } from '../../shared/queue';
import { productionApp } from '../../shared/app/app';
import { settleOrThrow, type RemediationWorker } from '../../shared/services/remediation';

/**
 * The queue-triggered functions' shared adapter: trigger metadata in, the worker service called,
 * its outcome mapped (a `retry` fails the invocation so the host delivers the message again; after
 * host.json's maxDequeueCount the host moves it to `<queue>-poison`). Kept out of the function
 * files so each registers only itself.
 */
export type WorkerFactory = () => Promise<RemediationWorker>;

export const productionWorker: WorkerFactory = async () => (await productionApp()).worker;

export type QueueHandlerKind = { kind: 'remediation' } | { kind: 'verification' } | { kind: 'poison'; queue: string };

export function createQueueHandler(target: QueueHandlerKind, worker: WorkerFactory = productionWorker) {
  return async (queueItem: unknown, context: InvocationContext): Promise<void> => {
    const delivery = deliveryFromTriggerMetadata(context.triggerMetadata);
    const handler = (await worker()).withLogger(loggerFrom(context));
    switch (target.kind) {
      case 'remediation':
        settleOrThrow(await handler.handleRemediation(queueItem, delivery));
        return;
      case 'verification':
        settleOrThrow(await handler.handleVerification(queueItem, delivery));
        return;
      case 'poison':
        await handler.handlePoison(target.queue, queueItem, delivery);
        return;
    }
  };
}
