import type { TokenCredential } from '@azure/identity';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { ServiceError } from '../errors';
import { storageCredential, isEndpointUrl } from '../store/credential';
import { redactSecrets } from '../errors/redact';
import { encodeQueueMessage } from './codec';
import type { QueueGateway, ReceivedQueueMessage } from '../domain/ports';
import type { QueueMessage } from './messages';

export type { QueueGateway, ReceivedQueueMessage } from '../domain/ports';

export interface StorageQueueOptions {
  /** AzureWebJobsStorage: a connection string, or the queue endpoint URL (used with `credential`). */
  connectionString: string;
  credential?: TokenCredential;
  /** Prepended to every queue name (tests and benchmarks share one Azurite). Lower-case letters and digits. */
  queuePrefix?: string;
}

/** Queues of one storage account. Clients are created once per queue and shared. */
export class StorageQueueGateway implements QueueGateway {
  private readonly service: QueueServiceClient;
  private readonly clients = new Map<string, QueueClient>();
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly prefix: string;

  constructor(options: StorageQueueOptions) {
    this.prefix = options.queuePrefix ?? '';
    if (this.prefix !== '' && !/^[a-z0-9]{1,20}$/.test(this.prefix)) {
      throw new ServiceError(`The queue prefix "${this.prefix}" must be up to 20 lower-case letters and digits.`, 'storage');
    }
    const value = options.connectionString.trim();
    this.service = isEndpointUrl(value)
      ? new QueueServiceClient(value.replace(/\/+$/, ''), options.credential ?? storageCredential())
      : QueueServiceClient.fromConnectionString(value);
  }

  /** The full name of a queue in the account (with the prefix). */
  nameOf(queue: string): string {
    return `${this.prefix}${queue}`;
  }

  private client(queue: string): QueueClient {
    let client = this.clients.get(queue);
    if (!client) {
      client = this.service.getQueueClient(this.nameOf(queue));
      this.clients.set(queue, client);
    }
    return client;
  }

  ensure(queue: string): Promise<void> {
    let pending = this.ensured.get(queue);
    if (!pending) {
      pending = this.client(queue)
        .createIfNotExists()
        .then(() => undefined)
        .catch((error: unknown) => {
          this.ensured.delete(queue);
          throw queueError(error, `creating queue ${this.nameOf(queue)}`);
        });
      this.ensured.set(queue, pending);
    }
    return pending;
  }

  async send(queue: string, message: QueueMessage, options: { delaySeconds?: number } = {}): Promise<void> {
    await this.sendText(queue, encodeQueueMessage(message), options.delaySeconds);
  }

  async sendRaw(queue: string, text: string): Promise<void> {
    await this.sendText(queue, text, undefined);
  }

  private async sendText(queue: string, text: string, delaySeconds: number | undefined): Promise<void> {
    await this.ensure(queue);
    try {
      await this.client(queue).sendMessage(text, {
        ...(delaySeconds && delaySeconds > 0 ? { visibilityTimeout: Math.ceil(delaySeconds) } : {}),
        // Never expire: a message that waits (paused, throttled) must not vanish unrecorded.
        messageTimeToLive: -1,
      });
    } catch (error) {
      throw queueError(error, `sending a message to ${this.nameOf(queue)}`);
    }
  }

  async receive(queue: string, max: number, visibilitySeconds: number): Promise<ReceivedQueueMessage[]> {
    await this.ensure(queue);
    try {
      const response = await this.client(queue).receiveMessages({
        numberOfMessages: Math.max(1, Math.min(32, max)),
        visibilityTimeout: Math.max(1, Math.ceil(visibilitySeconds)),
      });
      return response.receivedMessageItems.map((item) => ({
        messageId: item.messageId,
        popReceipt: item.popReceipt,
        dequeueCount: item.dequeueCount,
        text: item.messageText,
        insertedOn: item.insertedOn,
      }));
    } catch (error) {
      throw queueError(error, `receiving messages from ${this.nameOf(queue)}`);
    }
  }

  async delete(queue: string, message: ReceivedQueueMessage): Promise<void> {
    try {
      await this.client(queue).deleteMessage(message.messageId, message.popReceipt);
    } catch (error) {
      // 404: the message is gone already (its visibility ran out and another consumer took it).
      if ((error as { statusCode?: number }).statusCode === 404) return;
      throw queueError(error, `deleting a message from ${this.nameOf(queue)}`);
    }
  }

  async release(queue: string, message: ReceivedQueueMessage, seconds: number): Promise<void> {
    try {
      await this.client(queue).updateMessage(message.messageId, message.popReceipt, undefined, Math.max(0, Math.ceil(seconds)));
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return;
      throw queueError(error, `releasing a message on ${this.nameOf(queue)}`);
    }
  }

  async approximateCount(queue: string): Promise<number> {
    await this.ensure(queue);
    try {
      return (await this.client(queue).getProperties()).approximateMessagesCount ?? 0;
    } catch (error) {
      throw queueError(error, `reading ${this.nameOf(queue)}`);
    }
  }
}

function queueError(error: unknown, doing: string): ServiceError {
  if (error instanceof ServiceError) return error;
  const statusCode = (error as { statusCode?: number }).statusCode;
  const code = (error as { code?: string }).code;
  const said = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const transient = statusCode === undefined || statusCode === 408 || statusCode === 429 || statusCode >= 500;
  return new ServiceError(
    redactSecrets(`Queue Storage failed while ${doing}${statusCode ? ` (HTTP ${statusCode}${code ? ` ${code}` : ''})` : ''}: ${said}`),
    'storage',
    statusCode,
    code,
    { cause: error, transient },
  );
}
