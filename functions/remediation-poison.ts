import { app } from '@azure/functions';
import { QUEUE_TRIGGERS, REMEDIATIONS_POISON_QUEUE } from '../shared/queue';
import { createQueueHandler } from './lib/queue-handlers';

export const REMEDIATION_POISON_FUNCTION = 'remediation-poison';

/**
 * Remediation messages that exhausted their deliveries: recorded as dead letters, and a readable
 * one fails its change on the finding and in the ledger — none is lost without a trace.
 */
export const remediationPoison = createQueueHandler({ kind: 'poison', queue: REMEDIATIONS_POISON_QUEUE });

app.storageQueue(REMEDIATION_POISON_FUNCTION, { ...QUEUE_TRIGGERS.remediationsPoison, handler: remediationPoison });
