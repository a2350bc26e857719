import { app } from '@azure/functions';
import { QUEUE_TRIGGERS } from '../shared/queue';
import { createQueueHandler } from './lib/queue-handlers';

export const REMEDIATION_WORKER_FUNCTION = 'remediation-worker';

/**
 * Applies one remediation message (idempotent: a duplicate changes and records nothing). Throttling
 * and outages fail the invocation so the host retries; a malformed message is recorded and completes.
 */
export const remediationWorker = createQueueHandler({ kind: 'remediation' });

app.storageQueue(REMEDIATION_WORKER_FUNCTION, { ...QUEUE_TRIGGERS.remediations, handler: remediationWorker });
