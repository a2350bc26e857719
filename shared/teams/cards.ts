import { RULE_IDS, type RuleId } from '../domain/finding';
import { RULE_METADATA } from '../rules/pack';
import { cardOf, clip, code, count, fits, formatUtc, heading, MAX_TEXT, more, plain, severityRank, text } from './card-parts';
import type { AdaptiveCard, CardElement, Container } from './card-types';
import { DIGEST_LIMITS, parseDigest, type Digest, type DigestChangeList, type DigestInput, type DigestRemediation } from './digest-input';

export { CARD_VERSION, plain } from './card-parts';
export { buildDecisionCard, type DecisionCardInput } from './decision-card';
export { DIGEST_LIMITS, type DigestApproval, type DigestChange, type DigestChangeList, type DigestInput, type DigestRemediation } from './digest-input';

/**
 * The nightly digest card, a pure builder: data in, card JSON out, no I/O, no clock. It fits the
 * Teams message budget however large the tenant: lists are cut to a few items plus "and N more".
 */


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
