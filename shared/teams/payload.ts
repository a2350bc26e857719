import { ADAPTIVE_CARD_CONTENT_TYPE, type AdaptiveCard, type TeamsWebhookPayload } from './card-types';

/** Teams refuses messages above about 28 KB ("Request entity too large"). */
export const TEAMS_MESSAGE_LIMIT_BYTES = 28 * 1024;

/**
 * What the builders aim for: the limit less a margin, because Teams measures the message after
 * Workflows has wrapped it, and that wrapping is not documented.
 */
export const CARD_PAYLOAD_BUDGET_BYTES = 26_000;

export function toWebhookPayload(card: AdaptiveCard): TeamsWebhookPayload {
  return { type: 'message', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }] };
}

/** UTF-8 bytes of the JSON body exactly as the sender posts it. */
export function payloadBytes(payload: TeamsWebhookPayload): number {
  return Buffer.byteLength(serializePayload(payload), 'utf8');
}

export function serializePayload(payload: TeamsWebhookPayload): string {
  return JSON.stringify(payload);
}
