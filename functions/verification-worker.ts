import { app } from '@azure/functions';
import { QUEUE_TRIGGERS } from '../shared/queue';
import { createQueueHandler } from './lib/queue-handlers';

export const VERIFICATION_WORKER_FUNCTION = 'verification-worker';

/** Re-reads the changed object and re-runs its rule: the finding is resolved only when it passes. */
export const verificationWorker = createQueueHandler({ kind: 'verification' });

app.storageQueue(VERIFICATION_WORKER_FUNCTION, { ...QUEUE_TRIGGERS.verifications, handler: verificationWorker });
