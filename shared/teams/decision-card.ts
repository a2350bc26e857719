import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import type { RuleId } from '../domain/finding';
import { ValidationError } from '../errors';
import { RULE_METADATA } from '../rules/pack';
import { cardOf, clip, code, fits, formatUtc, MAX_TEXT, plain, ruleIdSchema, text, textSchema, urlSchema } from './card-parts';
import type { AdaptiveCard, CardElement } from './card-types';

/** The follow-up after a person decided an approval request: who, when, what runs (or would have). */
export interface DecisionCardInput {
  requestId: string;
  ruleId: RuleId;
  objectUpn: string;
  change: string;
  decision: 'approve' | 'reject';
  approverName: string;
  decidedAt: Date;
  /** Required for a rejection: recorded and shown. */
  reason?: string;
  dashboardUrl?: string;
}

const decisionSchema = z
  .object({
    requestId: z.string().min(1).max(200),
    ruleId: ruleIdSchema,
    objectUpn: textSchema,
    change: textSchema,
    decision: z.enum(['approve', 'reject']),
    approverName: z.string().min(1).max(1000),
    decidedAt: z.date(),
    reason: textSchema.optional(),
    dashboardUrl: urlSchema.optional(),
  })
  .refine((input) => input.decision === 'approve' || (input.reason ?? '').trim() !== '', {
    message: 'a rejection needs a reason',
    path: ['reason'],
  });


/** The short follow-up after a decision: who, when, and what happens next. */
export function buildDecisionCard(input: DecisionCardInput): AdaptiveCard {
  const parsed = decisionSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('The decision card input is not valid.', 'decision card', formatZodIssues(parsed.error));
  const decision = parsed.data;
  const rule = RULE_METADATA[decision.ruleId];
  const approved = decision.decision === 'approve';
  const who = clip(decision.approverName, MAX_TEXT.name);
  const when = formatUtc(decision.decidedAt);
  const headline = (name: string) =>
    approved ? `Approved by ${name} at ${when}: the change is queued` : `Rejected by ${name} at ${when}: nothing will change`;
  const body: CardElement[] = [
    text(headline(plain(who)), { weight: 'Bolder', color: approved ? 'Good' : 'Attention' }),
    {
      type: 'FactSet',
      facts: [
        { title: 'Object', value: plain(clip(decision.objectUpn, MAX_TEXT.upn)) },
        { title: 'Rule', value: `${plain(rule.title)} (${rule.severity})` },
        { title: 'Request', value: plain(clip(decision.requestId, MAX_TEXT.id)) },
      ],
    },
    text(approved ? 'Queued:' : 'Would have run:', { isSubtle: true, spacing: 'Small' }),
    code(decision.change),
  ];
  if (!approved && decision.reason !== undefined) {
    body.push(text(`Reason: ${plain(clip(decision.reason, MAX_TEXT.reason))}`, { spacing: 'Small' }));
  }
  // fallbackText is plain text (notifications), so it takes the name unescaped.
  const card = cardOf(body, headline(who), decision.dashboardUrl);
  if (!fits(card)) throw new RangeError('The decision card does not fit the Teams message limit.');
  return card;
}

