import { app } from '@azure/functions';
import { QUEUE_TRIGGERS, VERIFICATIONS_POISON_QUEUE } from '../shared/queue';
import { createQueueHandler } from './lib/queue-handlers';

export const VERIFICATION_POISON_FUNCTION = 'verification-poison';

/** Verifications that exhausted their deliveries: the change is recorded as failed, not verified. */
export const verificationPoison = createQueueHandler({ kind: 'poison', queue: VERIFICATIONS_POISON_QUEUE });

app.storageQueue(VERIFICATION_POISON_FUNCTION, { ...QUEUE_TRIGGERS.verificationsPoison, handler: verificationPoison });
