/**
 * Queue names and the connection setting, declared once: the functions' triggers, the services that
 * enqueue and the command line's in-process drain all import them from here.
 */
export const REMEDIATIONS_QUEUE = 'remediations';
export const VERIFICATIONS_QUEUE = 'verifications';

/** Where the Functions host moves a message after maxDequeueCount failed attempts. */
export function poisonQueueOf(queue: string): string {
  return `${queue}-poison`;
}

export const REMEDIATIONS_POISON_QUEUE = poisonQueueOf(REMEDIATIONS_QUEUE);
export const VERIFICATIONS_POISON_QUEUE = poisonQueueOf(VERIFICATIONS_QUEUE);

/** The app setting that names the storage account of the queues (as `connection` in a binding). */
export const QUEUE_CONNECTION = 'AzureWebJobsStorage';

/**
 * host.json's extensions.queues.maxDequeueCount: the in-process drain moves a message to its
 * poison queue after the same number of attempts, so the command line and the host agree.
 */
export const MAX_DEQUEUE_COUNT = 5;

/** Trigger options for each queue, as app.storageQueue takes them. */
export const QUEUE_TRIGGERS = {
  remediations: { queueName: REMEDIATIONS_QUEUE, connection: QUEUE_CONNECTION },
  remediationsPoison: { queueName: REMEDIATIONS_POISON_QUEUE, connection: QUEUE_CONNECTION },
  verifications: { queueName: VERIFICATIONS_QUEUE, connection: QUEUE_CONNECTION },
  verificationsPoison: { queueName: VERIFICATIONS_POISON_QUEUE, connection: QUEUE_CONNECTION },
} as const;
