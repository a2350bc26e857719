import { QueueMessageError, type QueueMessage } from './messages';

/**
 * The Functions host reads queue messages as base64 (host.json messageEncoding defaults to base64,
 * REFERENCE.md §5.2): a message enqueued as plain text is not decoded and fails the trigger. So
 * everything we enqueue is base64 of UTF-8 JSON, and the in-process drain decodes the same way the
 * host does: strict base64 (as .NET's Convert.FromBase64String), then UTF-8.
 */
export function encodeQueueMessage(message: QueueMessage): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 message text → the UTF-8 text the host would hand to the function. */
export function decodeQueueMessageText(text: string): string {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new QueueMessageError(
      `The message is not base64 (the Functions host could not decode it either): "${text.slice(0, 60)}${text.length > 60 ? '…' : ''}".`,
      ['(message): not base64'],
    );
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}
