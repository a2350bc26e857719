import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import { RULE_IDS, type RuleId } from '../domain/finding';
import { ValidationError } from '../errors';
import { RULE_METADATA } from '../rules/pack';
import { cardOf, clip, code, compareApprovalPriority, count, countSchema, fits, formatUtc, heading, MAX_TEXT, more, plain, ruleIdSchema, severityRank, text, textSchema, urlSchema } from './card-parts';
import type { AdaptiveCard, CardElement, Container } from './card-types';

export { CARD_VERSION, plain } from './card-parts';
export { buildDecisionCard, type DecisionCardInput } from './decision-card';

/**
 * The nightly digest card, a pure builder: data in, card JSON out, no I/O, no clock. It fits the
 * Teams message budget however large the tenant: lists are cut to a few items plus "and N more".
 */

/** How much of each list the digest shows before it summarises. */
export const DIGEST_LIMITS = {
  /** Approval requests with their own Approve / Reject buttons; more is a wall to scroll. */
  approvals: 10,
  /** Examples under "new", "resolved", "fixed automatically". */
  examples: 5,
} as const;

/** One finding as the digest mentions it; a Finding from ScanChanges fits this shape. */
export interface DigestChange {
  ruleId: RuleId;
  userPrincipalName: string;
  logonType?: string;
}

/** A count with a few examples, for callers that do not hold the whole list in memory. */
export interface DigestChangeList {
  count: number;
  byRule?: Partial<Record<RuleId, number>>;
  examples: readonly DigestChange[];
}

export interface DigestRemediation {
  ruleId: RuleId;
  objectUpn: string;
  /** The cmdlet call that ran. */
  change: string;
}

export interface DigestApproval {
  requestId: string;
  ruleId: RuleId;
  objectUpn: string;
  /** The exact cmdlet call approval would queue. */
  change: string;
  /** Signed links (signApprovalLinks); the builder only places them, so it stays pure. */
  approveUrl: string;
  rejectUrl: string;
  expiresAt?: Date;
}

export interface DigestInput {
  tenantId: string;
  /** e.g. contoso.onmicrosoft.com; the tenant id is shown when absent. */
  tenantName?: string;
  scanId: string;
  scannedAt: Date;
  /** Open findings per rule after this scan. */
  countsByRule: Partial<Record<RuleId, number>>;
  /** Findings first seen in this scan (ScanChanges.opened, or a count with examples). */
  opened: readonly DigestChange[] | DigestChangeList;
  /** Findings that were open before and are gone now (ScanChanges.resolved). */
  resolved: readonly DigestChange[] | DigestChangeList;
  autoFixed: { count: number; examples: readonly DigestRemediation[] };
  autoFixFailed?: { count: number; examples: readonly DigestRemediation[] };
  /** Requests waiting for a decision, most important first (the builder also sorts by severity). */
  approvals: readonly DigestApproval[];
  /** When `approvals` is only the first part of the list: how many there are in all. */
  approvalsTotal?: number;
  /** Rules that threw on some object (reported, never a crash). */
  ruleErrors?: number;
  /**
   * The tenant's coverage figure, which the card leads with: the headline (share of mailboxes whose
   * reads are recorded, per logon type, change since the last scan) and the counts by verdict.
   */
  coverage?: { headline: string; counts: string; allRecorded: boolean };
  /** Where "and N more" points: the dashboard or a drift query. */
  dashboardUrl?: string;
}

const changeSchema = z.object({ ruleId: ruleIdSchema, userPrincipalName: textSchema, logonType: textSchema.optional() });
const changeListSchema = z.object({
  count: countSchema,
  byRule: z.partialRecord(ruleIdSchema, countSchema).optional(),
  examples: z.array(changeSchema),
});
const remediationSchema = z.object({ ruleId: ruleIdSchema, objectUpn: textSchema, change: textSchema });
const remediationListSchema = z.object({ count: countSchema, examples: z.array(remediationSchema) });
const approvalSchema = z.object({
  requestId: z.string().min(1).max(200),
  ruleId: ruleIdSchema,
  objectUpn: textSchema,
  change: textSchema,
  approveUrl: urlSchema,
  rejectUrl: urlSchema,
  expiresAt: z.date().optional(),
});
const digestSchema = z.object({
  tenantId: z.string().min(1).max(200),
  tenantName: z.string().max(200).optional(),
  scanId: z.string().min(1).max(200),
  scannedAt: z.date(),
  countsByRule: z.partialRecord(ruleIdSchema, countSchema),
  opened: changeListSchema,
  resolved: changeListSchema,
  autoFixed: remediationListSchema,
  autoFixFailed: remediationListSchema.optional(),
  approvals: z.array(approvalSchema),
  approvalsTotal: countSchema,
  ruleErrors: countSchema.optional(),
  coverage: z.object({ headline: z.string().max(400), counts: z.string().max(200), allRecorded: z.boolean() }).optional(),
  dashboardUrl: urlSchema.optional(),
});
type Digest = z.infer<typeof digestSchema>;

/**
 * The nightly digest. Lists are cut to DIGEST_LIMITS first. If the message would still be over
 * budget (long UPNs, long links), examples shrink (5, 3, 1) before any approval request goes,
 * because approval requests are the part someone has to act on; only then are approval requests
 * dropped, as few as possible (binary search), first keeping one example per list, then none.
 * Every step measures the serialised webhook payload, so the bound holds whatever the input.
 */
export function buildDigestCard(input: DigestInput): AdaptiveCard {
  const digest = parseDigest(input);
  const wanted = Math.min(digest.approvals.length, DIGEST_LIMITS.approvals);

  for (const examples of [DIGEST_LIMITS.examples, 3, 1]) {
    const card = digestCard(digest, { approvals: wanted, examples });
    if (fits(card)) return card;
  }
  for (const examples of [1, 0]) {
    const approvals = mostApprovalsThatFit(digest, wanted, examples);
    if (approvals !== undefined) return digestCard(digest, { approvals, examples });
  }
  // Every text on the card is capped, so the card without lists is a few KB; this guards edits.
  throw new RangeError('The digest card does not fit the Teams message limit even without its lists.');
}

/** Binary search: the card grows with every approval request shown. */
function mostApprovalsThatFit(digest: Digest, wanted: number, examples: number): number | undefined {
  if (!fits(digestCard(digest, { approvals: 0, examples }))) return undefined;
  let low = 0;
  let high = wanted;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(digestCard(digest, { approvals: middle, examples }))) low = middle;
    else high = middle - 1;
  }
  return low;
}

function parseDigest(input: DigestInput): Digest {
  // Only what can appear on the card is validated and copied, so 100,000 findings cost a slice,
  // not a deep copy.
  const approvals = [...input.approvals]
    .map((approval, index) => ({ approval, index }))
    .sort((a, b) => compareApprovalPriority(a.approval.ruleId, b.approval.ruleId) || a.index - b.index)
    .slice(0, DIGEST_LIMITS.approvals)
    .map(({ approval }) => approval);
  const parsed = digestSchema.safeParse({
    ...input,
    opened: changeList(input.opened),
    resolved: changeList(input.resolved),
    autoFixed: remediationList(input.autoFixed),
    autoFixFailed: input.autoFixFailed ? remediationList(input.autoFixFailed) : undefined,
    approvals,
    approvalsTotal: Math.max(input.approvalsTotal ?? 0, input.approvals.length),
  });
  if (!parsed.success) throw new ValidationError('The digest card input is not valid.', 'digest card', formatZodIssues(parsed.error));
  return parsed.data;
}

function changeList(value: readonly DigestChange[] | DigestChangeList): DigestChangeList {
  if (isChangeArray(value)) {
    const byRule: Partial<Record<RuleId, number>> = {};
    for (const change of value) byRule[change.ruleId] = (byRule[change.ruleId] ?? 0) + 1;
    return { count: value.length, byRule, examples: value.slice(0, DIGEST_LIMITS.examples).map(pickChange) };
  }
  return {
    count: Math.max(value.count, value.examples.length),
    ...(value.byRule ? { byRule: value.byRule } : {}),
    examples: value.examples.slice(0, DIGEST_LIMITS.examples).map(pickChange),
  };
}

function isChangeArray(value: readonly DigestChange[] | DigestChangeList): value is readonly DigestChange[] {
  return Array.isArray(value);
}

/** A Finding carries more than the card needs; copy only the three fields the card shows. */
function pickChange(change: DigestChange): DigestChange {
  return {
    ruleId: change.ruleId,
    userPrincipalName: change.userPrincipalName,
    ...(change.logonType !== undefined ? { logonType: change.logonType } : {}),
  };
}

function remediationList(value: { count: number; examples: readonly DigestRemediation[] }): {
  count: number;
  examples: DigestRemediation[];
} {
  return { count: Math.max(value.count, value.examples.length), examples: value.examples.slice(0, DIGEST_LIMITS.examples) };
}

function digestCard(digest: Digest, show: { approvals: number; examples: number }): AdaptiveCard {
  const openTotal = Object.values(digest.countsByRule).reduce<number>((sum, count) => sum + (count ?? 0), 0);
  const tenant = plain(clip(digest.tenantName ?? digest.tenantId, MAX_TEXT.name));
  const body: CardElement[] = [
    text('Mailbox audit drift: nightly digest', { size: 'Medium', weight: 'Bolder' }),
    text(`${tenant} · scanned ${formatUtc(digest.scannedAt)} · scan ${plain(clip(digest.scanId, MAX_TEXT.id))}`, {
      isSubtle: true,
      spacing: 'None',
    }),
    ...(digest.coverage
      ? [
          text(plain(digest.coverage.headline), { weight: 'Bolder', color: digest.coverage.allRecorded ? 'Good' : 'Attention', wrap: true }),
          text(plain(digest.coverage.counts), { isSubtle: true, spacing: 'None' }),
        ]
      : []),
    {
      type: 'FactSet',
      facts: [
        { title: 'Open findings', value: count(openTotal) },
        { title: 'New since last scan', value: count(digest.opened.count) },
        { title: 'Resolved since last scan', value: count(digest.resolved.count) },
        { title: 'Fixed automatically', value: count(digest.autoFixed.count) },
        ...(digest.autoFixFailed && digest.autoFixFailed.count > 0
          ? [{ title: 'Automatic fixes that failed', value: count(digest.autoFixFailed.count) }]
          : []),
        { title: 'Waiting for approval', value: count(digest.approvalsTotal) },
        ...(digest.ruleErrors ? [{ title: 'Rule errors', value: count(digest.ruleErrors) }] : []),
      ],
    },
    ...openByRule(digest.countsByRule),
    ...changeSection('New since last scan', digest.opened, show.examples, digest.dashboardUrl),
    ...changeSection('Resolved since last scan', digest.resolved, show.examples, digest.dashboardUrl),
    ...remediationSection('Fixed automatically', digest.autoFixed, show.examples, digest.dashboardUrl),
    ...(digest.autoFixFailed
      ? remediationSection('Automatic fixes that failed', digest.autoFixFailed, show.examples, digest.dashboardUrl)
      : []),
    ...approvalSection(digest, show.approvals),
  ];
  const fallback = `Audit Warden: ${digest.coverage ? `${digest.coverage.headline}; ` : ''}${count(openTotal)} open findings, ${count(digest.opened.count)} new, ${count(
    digest.approvalsTotal,
  )} waiting for approval`;
  return cardOf(body, fallback, digest.dashboardUrl);
}

function openByRule(countsByRule: Partial<Record<RuleId, number>>): CardElement[] {
  const rules = RULE_IDS.filter((id) => (countsByRule[id] ?? 0) > 0).sort(
    (a, b) => severityRank(a) - severityRank(b) || RULE_IDS.indexOf(a) - RULE_IDS.indexOf(b),
  );
  if (rules.length === 0) {
    return [text('No open drift: every checked setting matches the policy.', { color: 'Good', separator: true })];
  }
  return [
    heading('Open findings by rule'),
    {
      type: 'FactSet',
      spacing: 'Small',
      facts: rules.map((id) => ({
        title: count(countsByRule[id] ?? 0),
        value: `${plain(RULE_METADATA[id].title)} (${RULE_METADATA[id].severity})`,
      })),
    },
  ];
}

function changeSection(title: string, list: DigestChangeList, examples: number, moreUrl: string | undefined): CardElement[] {
  if (list.count === 0) return [];
  const elements: CardElement[] = [heading(`${title} (${count(list.count)})`)];
  const byRule = RULE_IDS.filter((id) => (list.byRule?.[id] ?? 0) > 0);
  if (byRule.length > 1) {
    const split = byRule.map((id) => `${id} ${count(list.byRule?.[id] ?? 0)}`).join(' · ');
    elements.push(text(split, { isSubtle: true, size: 'Small', spacing: 'None' }));
  }
  const shown = list.examples.slice(0, examples);
  for (const change of shown) {
    const logon = change.logonType ? ` (${plain(clip(change.logonType, 20))})` : '';
    elements.push(
      text(`${plain(clip(change.userPrincipalName, MAX_TEXT.upn))}: ${plain(RULE_METADATA[change.ruleId].title)}${logon}`, {
        spacing: 'Small',
      }),
    );
  }
  elements.push(...more(list.count - shown.length, shown.length > 0, moreUrl));
  return elements;
}

function remediationSection(
  title: string,
  list: { count: number; examples: DigestRemediation[] },
  examples: number,
  moreUrl: string | undefined,
): CardElement[] {
  if (list.count === 0) return [];
  const elements: CardElement[] = [heading(`${title} (${count(list.count)})`)];
  const shown = list.examples.slice(0, examples);
  for (const fix of shown) {
    elements.push(text(`${plain(clip(fix.objectUpn, MAX_TEXT.upn))}: ${plain(RULE_METADATA[fix.ruleId].title)}`, { spacing: 'Small' }));
    elements.push({ ...code(fix.change), spacing: 'None' });
  }
  elements.push(...more(list.count - shown.length, shown.length > 0, moreUrl));
  return elements;
}

function approvalSection(digest: Digest, shown: number): CardElement[] {
  if (digest.approvalsTotal === 0) return [];
  const elements: CardElement[] = [
    heading(`Waiting for approval (${count(digest.approvalsTotal)})`),
    text('Approve and Reject open a confirmation page; nothing changes until you confirm there.', {
      isSubtle: true,
      size: 'Small',
      spacing: 'None',
    }),
  ];
  for (const approval of digest.approvals.slice(0, shown)) elements.push(approvalContainer(approval));
  const remaining = digest.approvalsTotal - Math.min(shown, digest.approvals.length);
  elements.push(...more(remaining, shown > 0, digest.dashboardUrl, 'approval requests'));
  if (shown === 0 && !digest.dashboardUrl) {
    elements.push(text(`${count(remaining)} requests are listed by the approvals query.`, { isSubtle: true, spacing: 'Small' }));
  }
  return elements;
}

function approvalContainer(approval: Digest['approvals'][number]): Container {
  const rule = RULE_METADATA[approval.ruleId];
  const facts = [
    { title: 'Object', value: plain(clip(approval.objectUpn, MAX_TEXT.upn)) },
    { title: 'Rule', value: `${approval.ruleId} (${rule.severity})` },
    ...(approval.expiresAt ? [{ title: 'Links expire', value: formatUtc(approval.expiresAt) }] : []),
  ];
  return {
    type: 'Container',
    style: 'emphasis',
    spacing: 'Medium',
    items: [
      text(plain(rule.title), { weight: 'Bolder', color: rule.severity === 'critical' ? 'Attention' : 'Default' }),
      { type: 'FactSet', spacing: 'Small', facts },
      text('Will run:', { isSubtle: true, spacing: 'Small' }),
      { ...code(approval.change), spacing: 'None' },
      {
        type: 'ActionSet',
        actions: [
          { type: 'Action.OpenUrl', title: 'Approve…', url: approval.approveUrl, style: 'positive' },
          { type: 'Action.OpenUrl', title: 'Reject…', url: approval.rejectUrl, style: 'destructive' },
        ],
      },
    ],
  };
}
