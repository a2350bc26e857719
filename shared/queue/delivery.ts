import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import { ValidationError } from '../errors';

/** The trigger metadata a queue-triggered function gets (camelCased by the library), as far as we use it. */
const triggerMetadataSchema = z.object({
  id: z.string().min(1),
  dequeueCount: z.coerce.number().int().min(1),
}).loose();

/** How a message was delivered: its id (the lease names it) and how many times it has been delivered. */
export interface QueueDelivery {
  messageId: string;
  dequeueCount: number;
}

/** Reads InvocationContext.triggerMetadata for a storage queue trigger. */
export function deliveryFromTriggerMetadata(metadata: unknown): QueueDelivery {
  const parsed = triggerMetadataSchema.safeParse(metadata ?? {});
  if (!parsed.success) {
    throw new ValidationError('The queue trigger metadata lacks the message id or dequeue count.', 'trigger metadata', formatZodIssues(parsed.error));
  }
  return { messageId: parsed.data.id, dequeueCount: parsed.data.dequeueCount };
}
