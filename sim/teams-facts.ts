/**
 * What Microsoft Teams' Workflows webhook accepts (REFERENCE.md §4.2), as the local receiver and
 * card renderer check it. The simulator keeps its own copy: an oracle that imported the product's
 * card types would accept whatever the product sends.
 */

/** Teams refuses a webhook message over about 28 KB. */
export const TEAMS_MESSAGE_LIMIT_BYTES = 28 * 1024;

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** An Adaptive Card as JSON; the renderer and validator look inside it themselves. */
export type AdaptiveCardJson = Record<string, unknown> & { type: 'AdaptiveCard' };

/** The body "When a Teams webhook request is received" accepts. */
export interface TeamsWebhookPayload {
  type: 'message';
  attachments: Array<{ contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; contentUrl?: null; content: AdaptiveCardJson }>;
}

/** UTF-8 bytes of a card posted as a webhook message, as Teams measures it. */
export function webhookMessageBytes(card: unknown): number {
  return Buffer.byteLength(JSON.stringify({ type: 'message', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }] }), 'utf8');
}

/** Text safe inside HTML elements and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string);
}
