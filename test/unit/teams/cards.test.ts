import { randomBytes } from 'node:crypto';
import { renderCardToHtml, validateCard } from '../../../sim/card-renderer';
import { ApprovalSigningKey } from '../../../shared/approval';
import { ValidationError } from '../../../shared/errors';
import type { ScanChanges } from '../../../shared/domain/ports';
import {
  type AdaptiveCard,
  CARD_PAYLOAD_BUDGET_BYTES,
  DIGEST_LIMITS,
  type DigestInput,
  TEAMS_MESSAGE_LIMIT_BYTES,
  buildDecisionCard,
  buildDigestCard,
  payloadBytes,
  toWebhookPayload,
} from '../../../shared/teams';
import { approvals, change, hugeDigest, PUBLIC_BASE_URL, SCANNED_AT, testKey, typesIn } from '../../support/fixtures/digest';
import { aFinding } from '../../support/fixtures/finding';
import { TENANT } from '../../support/fixtures/tenant';

const key = testKey();

function smallDigest(overrides: Partial<DigestInput> = {}): DigestInput {
  return {
    tenantId: TENANT,
    scanId: '7990000000000-abc',
    scannedAt: SCANNED_AT,
    countsByRule: { 'mailitemsaccessed-missing': 3, 'audit-bypass-enabled': 1 },
    opened: [change(1, 'mailitemsaccessed-missing')],
    resolved: [change(2, 'mailbox-audit-log-age-short')],
    autoFixed: {
      count: 1,
      examples: [
        {
          ruleId: 'mailbox-audit-log-age-short',
          objectUpn: 'user2@contoso.example',
          change: "Set-Mailbox -Identity 'user2@contoso.example' -AuditLogAgeLimit 180.00:00:00",
        },
      ],
    },
    approvals: approvals(2, key),
    dashboardUrl: `${PUBLIC_BASE_URL}/api/drift`,
    ...overrides,
  };
}

function bytesOf(card: AdaptiveCard): number {
  return payloadBytes(toWebhookPayload(card));
}

/** The properties every card posted to Teams must have (issue 5, "Must show"). */
function expectPostable(card: AdaptiveCard): void {
  expect(validateCard(card)).toEqual([]);
  expect(['1.4', '1.5']).toContain(card.version);
  const actions = typesIn(card).filter((type) => type.startsWith('Action.'));
  expect(actions.every((type) => type === 'Action.OpenUrl')).toBe(true);
  expect(JSON.stringify(card)).not.toMatch(/Action\.(Submit|Execute)/);
  expect(bytesOf(card)).toBeLessThanOrEqual(CARD_PAYLOAD_BUDGET_BYTES);
}

function allText(card: AdaptiveCard): string {
  return JSON.stringify(card);
}

describe('buildDigestCard', () => {
  it('builds a clean card for an ordinary night', () => {
    const card = buildDigestCard(smallDigest());
    expectPostable(card);
    const text = allText(card);
    expect(text).toContain('MailItemsAccessed is not audited for a logon type (high)');
    expect(text).toContain('An account bypasses mailbox auditing (critical)');
    expect(text).toContain('"title":"Waiting for approval","value":"2"');
    expect(text).toContain('-AuditLogAgeLimit 180.00:00:00');
  });

  it('leads with the coverage figure, in Attention colour while a mailbox is not recorded', () => {
    const coverage = {
      headline: 'Reads recorded for 96.2 % of 2,812 in-scope mailboxes (Owner 97.0 %, Delegate 96.5 %, Admin 96.4 %), +0.4 points since the last scan',
      counts: '1,200 recorded · 1,505 at risk · 107 not recorded',
      allRecorded: false,
    };
    const card = buildDigestCard(smallDigest({ coverage }));
    expectPostable(card);
    const headline = card.body.findIndex((element) => JSON.stringify(element).includes(coverage.headline));
    const facts = card.body.findIndex((element) => (element as { type?: string }).type === 'FactSet');
    expect(headline).toBeGreaterThanOrEqual(0);
    expect(headline).toBeLessThan(facts);
    expect(card.body[headline]).toMatchObject({ weight: 'Bolder', color: 'Attention' });
    expect(allText(card)).toContain(coverage.counts);
    expect(JSON.stringify(card)).toContain(`Audit Warden: ${coverage.headline}; `);

    const clean = buildDigestCard(smallDigest({ coverage: { ...coverage, counts: '2,812 recorded · 0 at risk · 0 not recorded', allRecorded: true } }));
    expect(clean.body.find((element) => JSON.stringify(element).includes(coverage.headline))).toMatchObject({ color: 'Good' });
  });

  it('is built without a coverage figure too (scans from before coverage existed)', () => {
    const card = buildDigestCard(smallDigest());
    expect(allText(card)).not.toContain('Reads recorded');
  });

  it('refuses an overlong coverage headline', () => {
    expect(() => buildDigestCard(smallDigest({ coverage: { headline: 'x'.repeat(401), counts: '', allRecorded: true } }))).toThrow(ValidationError);
  });

  it('gives each approval request the exact change and Approve / Reject links', () => {
    const input = smallDigest();
    const card = buildDigestCard(input);
    const urls = JSON.stringify(card);
    for (const approval of input.approvals) {
      expect(urls).toContain(JSON.stringify(approval.approveUrl));
      expect(urls).toContain(JSON.stringify(approval.rejectUrl));
      expect(urls).toContain(approval.change);
    }
  });

  it('puts critical approval requests first', () => {
    const list = approvals(6, key).map((approval, index) => ({
      ...approval,
      ruleId: index < 5 ? ('licence-inherited-blocks-mia' as const) : ('org-audit-disabled' as const),
    }));
    const card = buildDigestCard(smallDigest({ approvals: list }));
    const text = allText(card);
    expect(text.indexOf(list[5]?.approveUrl as string)).toBeLessThan(text.indexOf(list[0]?.approveUrl as string));
  });

  it('within a severity, puts the tenant-wide switches before single accounts (the pack order)', () => {
    const rules = ['audit-bypass-enabled', 'audit-bypass-enabled', 'audit-log-ingestion-disabled', 'org-audit-disabled'] as const;
    const list = approvals(rules.length, key).map((approval, index) => ({ ...approval, ruleId: rules[index]! }));
    const text = allText(buildDigestCard(smallDigest({ approvals: list })));
    const at = (index: number) => text.indexOf(list[index]?.approveUrl as string);
    expect(at(3)).toBeLessThan(at(2));
    expect(at(2)).toBeLessThan(at(0));
    expect(at(0)).toBeLessThan(at(1));
  });

  it('says so when there is no drift', () => {
    const card = buildDigestCard(
      smallDigest({ countsByRule: {}, opened: [], resolved: [], autoFixed: { count: 0, examples: [] }, approvals: [] }),
    );
    expectPostable(card);
    expect(allText(card)).toContain('No open drift');
  });

  it('stays under 28 KB for 100,000 findings and 5,000 approval requests, and summarises', () => {
    const card = buildDigestCard(hugeDigest(100_000, 5_000, key));
    expectPostable(card);
    const bytes = bytesOf(card);
    expect(bytes).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const text = allText(card);
    expect(text).toContain('"value":"100,000"');
    expect(text).toContain(`…and ${(5_000 - DIGEST_LIMITS.approvals).toLocaleString('en-US')} more approval requests`);
    expect(text).toContain('…and 99,995 more');
    expect(text).toContain('[see all](https://audit-warden.contoso.example/api/drift?');
    expect(typesIn(card).filter((type) => type === 'ActionSet')).toHaveLength(DIGEST_LIMITS.approvals);
  });

  it("takes the scan recorder's ScanChanges as they are", () => {
    const finding = aFinding({
      objectId: 'b1c2d3e4-0000-1111-2222-333344445555',
      userPrincipalName: 'megan.bowen@contoso.example',
      logonType: 'Delegate',
      expected: ['MailItemsAccessed'],
      actual: [],
    });
    const changes: ScanChanges = {
      opened: [finding],
      resolved: [{ ruleId: 'mailbox-audit-log-age-short', objectId: 'x', userPrincipalName: 'lee.gu@contoso.example' }],
      gone: [],
      stillOpen: 1,
    };
    const card = buildDigestCard(smallDigest({ opened: changes.opened, resolved: changes.resolved }));
    expectPostable(card);
    expect(allText(card)).toContain('megan.bowen@contoso.example: MailItemsAccessed is not audited for a logon type (Delegate)');
    expect(allText(card)).not.toContain(finding.objectId);
  });

  it('accepts counts with examples instead of whole lists', () => {
    const card = buildDigestCard(
      smallDigest({ opened: { count: 1_240, byRule: { 'mailitemsaccessed-missing': 1_240 }, examples: [change(7, 'mailitemsaccessed-missing')] } }),
    );
    expectPostable(card);
    expect(allText(card)).toContain('…and 1,239 more');
  });

  it('drops examples, then approval requests, when long texts and links would break the budget', () => {
    const longUpn = (index: number) => `${'ü'.repeat(60)}${index}@${'sub.'.repeat(12)}contoso.example`;
    const list = approvals(5_000, key, { upn: longUpn }).map((approval) => ({
      ...approval,
      change: `${approval.change} ${'-Confirm:$false '.repeat(60)}`,
      approveUrl: `${approval.approveUrl}&pad=${'p'.repeat(1_500)}`,
      rejectUrl: `${approval.rejectUrl}&pad=${'p'.repeat(1_500)}`,
    }));
    const input = hugeDigest(100_000, 0, key);
    const card = buildDigestCard({ ...input, approvals: list });
    expectPostable(card);
    const shown = typesIn(card).filter((type) => type === 'ActionSet').length;
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(DIGEST_LIMITS.approvals);
    expect(allText(card)).toContain(`${(5_000 - shown).toLocaleString('en-US')} more approval requests`);
  });

  it('treats tenant text as literal: no injected links, no HTML', () => {
    const hostile = '[Approve here](https://evil.example)<script>alert(1)</script>@contoso.example';
    const list = approvals(1, key, { upn: () => hostile });
    const card = buildDigestCard(smallDigest({ approvals: list, opened: [{ ruleId: 'mailbox-audit-disabled', userPrincipalName: hostile }] }));
    expectPostable(card);
    const html = renderCardToHtml(card);
    expect(html).not.toContain('href="https://evil.example');
    expect(html).not.toMatch(/<script>alert/);
    expect(html).toContain('[Approve here](https://evil.example)&lt;script&gt;alert(1)&lt;/script&gt;@contoso.example');
  });

  it('refuses a javascript: link and unknown rules', () => {
    const [approval] = approvals(1, key);
    expect(() => buildDigestCard(smallDigest({ approvals: [{ ...approval!, approveUrl: 'javascript:alert(1)' }] }))).toThrow(ValidationError);
    expect(() => buildDigestCard(smallDigest({ countsByRule: { 'no-such-rule': 1 } as never }))).toThrow(ValidationError);
  });

  it('renders to a standalone HTML page whose buttons are the signed links', () => {
    const input = smallDigest();
    const html = renderCardToHtml(buildDigestCard(input), { title: 'digest' });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('Mailbox audit drift: nightly digest');
    expect(html).toContain('.ac-pushButton');
    const approveHref = input.approvals[0]?.approveUrl.replace(/&/g, '&amp;');
    expect(html).toContain(`href="${approveHref}"`);
    expect(html).not.toMatch(/<script\b/);
  });
});

describe('buildDecisionCard', () => {
  const base = {
    requestId: 'req-000001',
    ruleId: 'audit-bypass-enabled' as const,
    objectUpn: 'svc-backup@contoso.example',
    change: "Set-MailboxAuditBypassAssociation -Identity 'svc-backup@contoso.example' -AuditBypassEnabled $false",
    approverName: 'adele.vance@contoso.example',
    decidedAt: new Date('2026-06-01T08:15:00Z'),
  };

  it('says who approved, when, and that the change is queued', () => {
    const card = buildDecisionCard({ ...base, decision: 'approve' });
    expectPostable(card);
    expect(allText(card)).toContain('Approved by adele.vance@contoso.example at 2026-06-01 08:15 UTC: the change is queued');
    expect(allText(card)).toContain('-AuditBypassEnabled $false');
  });

  it('says who rejected and why, with the reason kept literal', () => {
    const card = buildDecisionCard({ ...base, decision: 'reject', reason: 'Backup vendor needs it until [June](https://x.example)' });
    expectPostable(card);
    expect(allText(card)).toContain('Rejected by adele.vance@contoso.example');
    expect(allText(card)).toContain('Reason: Backup vendor needs it until \\\\[June\\\\](https://x.example)');
  });

  it('needs a reason to reject', () => {
    expect(() => buildDecisionCard({ ...base, decision: 'reject' })).toThrow(ValidationError);
  });
});

describe('validateCard', () => {
  const card = (body: unknown[], extra: Record<string, unknown> = {}) => ({ type: 'AdaptiveCard', version: '1.4', body, ...extra });

  it('reports what the adaptivecards library reports', () => {
    const issues = validateCard(card([{ type: 'Table', columns: [] }, { type: 'TextBlock', text: 'x', color: 'purple' }]));
    expect(issues.map((issue) => issue.event)).toEqual(expect.arrayContaining(['UnknownElementType', 'InvalidPropertyValue']));
  });

  it('reports Action.Submit and Action.Execute wherever they are', () => {
    const issues = validateCard(
      card([{ type: 'ActionSet', actions: [{ type: 'Action.Submit', title: 'ok' }] }], { actions: [{ type: 'Action.Execute', title: 'go' }] }),
    );
    expect(issues.filter((issue) => issue.event === 'ActionNotAllowed')).toHaveLength(2);
  });

  it('reports versions above 1.5 and missing versions', () => {
    expect(validateCard({ ...card([]), version: '1.6' }).map((issue) => issue.event)).toContain('VersionTooNew');
    expect(validateCard({ type: 'AdaptiveCard', body: [] }).map((issue) => issue.event)).toContain('MissingVersion');
  });

  it('reports a card over 28 KB', () => {
    const big = card([{ type: 'TextBlock', text: 'x'.repeat(30_000) }]);
    expect(validateCard(big).map((issue) => issue.event)).toContain('TooLarge');
  });

  it('does not touch Node globals', () => {
    validateCard(card([]));
    expect('window' in globalThis).toBe(false);
    expect('document' in globalThis).toBe(false);
  });
});

describe('key hygiene on cards', () => {
  it('never carries the signing key', () => {
    const keyText = randomBytes(32).toString('base64');
    const signingKey = ApprovalSigningKey.parse(keyText);
    const card = buildDigestCard(hugeDigest(1_000, 30, signingKey));
    expect(JSON.stringify(card)).not.toContain(keyText);
    expect(JSON.stringify(card)).not.toContain(Buffer.from(keyText, 'base64').toString('base64url'));
  });
});
