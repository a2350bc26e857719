import { z } from 'zod';
import { RULE_IDS, type RuleId, SEVERITIES, type Severity } from '../domain/finding';
import { RULE_METADATA } from '../rules/pack';
import type { AdaptiveCard, CardElement, OpenUrlAction, TextBlock } from './card-types';
import { CARD_PAYLOAD_BUDGET_BYTES, payloadBytes, toWebhookPayload } from './payload';

/**
 * What every card shares: the version and size rules, the input schemas' building blocks, and
 * small element builders. Every card declares version 1.4 (Teams desktop and web render it; Power
 * Automate is reported to fail on 1.6), uses Action.OpenUrl only, and fits
 * CARD_PAYLOAD_BUDGET_BYTES once wrapped as a webhook message.
 */
export const CARD_VERSION = '1.4';

/** Longest text any one field may put on a card (characters); the confirmation page shows all. */
export const MAX_TEXT = { upn: 120, change: 600, reason: 500, name: 120, id: 120 } as const;
const MAX_URL_LENGTH = 2048;

export const ruleIdSchema = z.enum(RULE_IDS);
export const countSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Links on a card are ours, but a javascript: or data: URL must never reach one. */
export const urlSchema = z
  .string()
  .max(MAX_URL_LENGTH)
  .refine((value) => /^https?:\/\/[^\s]+$/i.test(value) && URL.canParse(value), 'must be an absolute http(s) URL');
export const textSchema = z.string().max(100_000);

/** "…and 1,240 more", or "See all 1,240" when no example was shown, linked when there is a dashboard. */
export function more(remaining: number, afterExamples: boolean, url: string | undefined, noun = ''): CardElement[] {
  if (remaining <= 0) return [];
  const what = noun ? ` ${noun}` : '';
  if (!afterExamples) {
    return url ? [text(`[See all ${count(remaining)}${what}](${markdownUrl(url)})`, { isSubtle: true, spacing: 'Small' })] : [];
  }
  const label = `…and ${count(remaining)} more${what}`;
  return [text(url ? `${label}: [see all](${markdownUrl(url)})` : label, { isSubtle: true, spacing: 'Small' })];
}

export function cardOf(body: CardElement[], fallbackText: string, dashboardUrl: string | undefined): AdaptiveCard {
  const actions: OpenUrlAction[] = dashboardUrl ? [{ type: 'Action.OpenUrl', title: 'Open dashboard', url: dashboardUrl }] : [];
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    msteams: { width: 'Full' },
    fallbackText,
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}

export function fits(card: AdaptiveCard): boolean {
  return payloadBytes(toWebhookPayload(card)) <= CARD_PAYLOAD_BUDGET_BYTES;
}

export function text(value: string, options: Omit<TextBlock, 'type' | 'text'> = {}): TextBlock {
  return { type: 'TextBlock', text: value, wrap: true, ...options };
}

export function heading(value: string): TextBlock {
  return text(value, { weight: 'Bolder', separator: true, spacing: 'Medium' });
}

/** A cmdlet call, in a monospace block: the exact text, so it can be compared and copied. */
export function code(value: string): TextBlock {
  return text(plain(clip(value, MAX_TEXT.change)), { fontType: 'Monospace', size: 'Small' });
}

/**
 * Text from the tenant (UPNs, identities, cmdlet arguments, reasons) rendered literally. Teams
 * renders Markdown in TextBlocks and facts, so an identity such as "[Approve](https://evil)"
 * would otherwise become a link on our card. Backslash escapes are CommonMark; `_` is left alone
 * because it is common in UPNs and is not emphasis inside a word.
 */
export function plain(value: string): string {
  return value.replace(/[\\`*[\]<>]/g, (char) => `\\${char}`);
}

/** Cuts on code points, so a clipped emoji cannot leave half a surrogate pair behind. */
export function clip(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('')}…`;
}

/** Parentheses and spaces would end a Markdown link early. */
export function markdownUrl(url: string): string {
  return url.replace(/[()\s]/g, (char) => encodeURIComponent(char));
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/**
 * The order approval requests are shown in: most severe first and, within a severity, the pack's
 * order (tenant-wide switches before single accounts). Negative when `a` comes first.
 */
export function compareApprovalPriority(a: RuleId | undefined, b: RuleId | undefined): number {
  const rank = (ruleId: RuleId | undefined) => (ruleId === undefined ? SEVERITIES.length : severityRank(ruleId));
  const order = (ruleId: RuleId | undefined) => (ruleId === undefined ? RULE_IDS.length : RULE_IDS.indexOf(ruleId));
  return rank(a) - rank(b) || order(a) - order(b);
}

export function severityRank(ruleId: RuleId): number {
  const severity: Severity | undefined = RULE_METADATA[ruleId]?.severity;
  return severity === undefined ? SEVERITIES.length : SEVERITIES.indexOf(severity);
}

export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
