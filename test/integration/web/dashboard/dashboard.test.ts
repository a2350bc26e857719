import { createHash } from 'node:crypto';
import { HttpRequest } from '@azure/functions';
import { createDashboardHandler } from '../../../../functions/dashboard-http';
import { verifyApprovalToken } from '../../../../shared/approval/links';
import { Dashboard, DASHBOARD_PAGE_HEADERS, renderDashboard, type DashboardData } from '../../../../shared/web/dashboard';
import { silentLogger } from '../../../../shared/logging';
import { principalHeaders } from '../../../../scripts/approval-client';
import type { HistoryService } from '../../../../shared/services/history';
import type { ApprovalRequest } from '../../../../shared/store/approvals';
import { ALICE, APPROVERS, BOB, capturingContext, MALLORY, PUBLIC_BASE_URL, SIGNING_KEY } from '../../../support/approval';
import { QUOTED_UPN, recordedHistory } from '../../../support/history';
import { day } from '../../../support/fixtures/scan';
import { registrationsOf } from '../../../support/registrations';

const HOSTILE = '<script>alert(1)</script>';

function request(principal?: typeof ALICE): HttpRequest {
  return new HttpRequest({ method: 'GET', url: `${PUBLIC_BASE_URL}/api/dashboard`, headers: principal ? principalHeaders(principal) : {} });
}

/** The only inline content a strict CSP lets through is the stylesheet whose hash it names. */
function expectSelfContained(page: string, csp: string) {
  const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1]!);
  expect(styles).toHaveLength(1);
  expect(csp).toContain(`'sha256-${createHash('sha256').update(styles[0]!).digest('base64')}'`);
  expect(csp).toMatch(/^default-src 'none';/);
  // Tags only: escaped text may say anything, a tag may not load or run anything.
  const tags = page.match(/<[^>]*>/g) ?? [];
  expect(tags.filter((tag) => /^<\/?(script|link|img|iframe|object|embed|form)\b/i.test(tag) || /\s(src|style|on\w+)=/i.test(tag))).toEqual([]);
}

describe('dashboard page', () => {
  let history: HistoryService;

  beforeAll(async () => {
    ({ history } = await recordedHistory());
  });

  it('registers GET /api/dashboard, anonymous at the function level (Easy Auth guards it)', () => {
    expect(registrationsOf('../../functions/dashboard-http').map(({ kind, name, options }) => ({ kind, name, authLevel: options.authLevel, methods: options.methods, route: options.route }))).toEqual([
      { kind: 'http', name: 'dashboard', authLevel: 'anonymous', methods: ['GET'], route: 'dashboard' },
    ]);
  });

  it('is for approvers: 401 without a principal or without Easy Auth in front, 403 for others, 200 for approvers by name or group', async () => {
    const handler = createDashboardHandler(async () => new Dashboard({ history, access: { kind: 'approvers', approvers: APPROVERS, trustPrincipalHeaders: true } }));
    const untrusting = createDashboardHandler(async () => new Dashboard({ history, access: { kind: 'approvers', approvers: APPROVERS, trustPrincipalHeaders: false } }));
    const status = async (h: typeof handler, principal?: typeof ALICE) => (await h(request(principal), capturingContext('dashboard').context)).status;
    expect(await status(handler)).toBe(401);
    expect(await status(untrusting, ALICE)).toBe(401);
    expect(await status(handler, MALLORY)).toBe(403);
    expect(await status(handler, ALICE)).toBe(200);
    expect(await status(handler, BOB)).toBe(200);
  });

  it('shows open findings per rule and severity, recent drift events and scan runs, escaped, loading nothing', async () => {
    const handler = createDashboardHandler(async () => new Dashboard({ history, access: { kind: 'local' }, clock: () => day(46) }));
    const response = await handler(request(), capturingContext('dashboard').context);
    expect(response.status).toBe(200);
    const headers = response.headers as Record<string, string>;
    expect(headers).toMatchObject(DASHBOARD_PAGE_HEADERS);
    const page = String(response.body);
    expectSelfContained(page, headers['Content-Security-Policy']!);

    expect(page).toContain('AuditEnabled is False on the mailbox');
    // The coverage figure leads: of the last scan's 5 mailboxes, 1 is clean, 3 (audit off, user mailbox) and
    // 7 (excepted short mailbox log) are at risk, 2 and 6 lack MailItemsAccessed for a logon type.
    const coverage = page.indexOf('<h2>Coverage</h2>');
    expect(coverage).toBeGreaterThan(-1);
    expect(coverage).toBeLessThan(page.indexOf('<h2>Open findings</h2>'));
    expect(page).toContain(
      '<p class="critical"><b>Reads recorded for 60.0 % of 5 in-scope mailboxes (Owner 80.0 %, Delegate 80.0 %, Admin 80.0 %), unchanged since the last scan</b></p>',
    );
    expect(page).toContain('1 recorded · 2 at risk · 2 not recorded');
    expect(page).toMatch(/<span class="high">high<\/span><b>\d+<\/b>/);
    expect(page).toContain('Scan runs');
    expect(page).toContain('>completed<');
    expect(page).toMatch(/Drift events, last 7 days/);
    expect(page).toContain('>resolved<');
    expect(page).toContain('o&quot;brien,x@contoso.example');
    expect(page).not.toContain(QUOTED_UPN);
  });

  it('escapes whatever the tenant put in a UPN, a reason or an actor', () => {
    const data: DashboardData = {
      tenantId: 'tenant',
      generatedAt: day(2),
      lastCompletedScan: { scanId: 's', status: 'completed', startedAt: day(1).toISOString(), findingsByRule: { 'mailbox-audit-disabled': 1 } },
      findings: {
        items: [
          {
            key: 'k',
            ruleId: 'mailbox-audit-disabled',
            severity: 'high',
            status: 'open',
            objectType: 'mailbox',
            objectId: 'o',
            userPrincipalName: HOSTILE,
            expected: true,
            actual: `"><img src=x onerror=alert(1)>`,
            firstSeen: day(1).toISOString(),
            lastSeen: day(1).toISOString(),
            episode: 1,
          },
        ],
        more: true,
      },
      events: {
        items: [{ eventId: 'e', type: 'rejected', at: day(1).toISOString(), ruleId: 'mailbox-audit-disabled', severity: 'high', objectType: 'mailbox', objectId: 'o', userPrincipalName: 'u', actor: HOSTILE, reason: `<a href="javascript:alert(1)">x</a>`, details: {} }],
        more: false,
        days: 7,
      },
      scans: [{ scanId: 's', status: 'failed', startedAt: day(1).toISOString(), findingsByRule: {}, reason: HOSTILE }],
      approvals: [
        { requestId: 'apr-1', ruleId: 'org-audit-disabled', objectUpn: HOSTILE, change: "Set-OrganizationConfig -AuditDisabled $false", createdAt: day(1), expiresAt: day(4), approveUrl: `${PUBLIC_BASE_URL}/api/approvals/apr-1?d=approve&t="><script>`, rejectUrl: `${PUBLIC_BASE_URL}/x` },
      ],
    };
    const page = renderDashboard(data);
    expectSelfContained(page, DASHBOARD_PAGE_HEADERS['Content-Security-Policy']!);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('&lt;a href=&quot;javascript:alert(1)&quot;&gt;');
    expect(page).toContain('d=approve&amp;t=&quot;&gt;&lt;script&gt;');
  });

  it('lists pending approval requests with freshly signed links that never outlive the request', async () => {
    const now = new Date();
    const pending: ApprovalRequest = {
      tenantId: history.tenantId,
      requestId: 'apr-dashboard-1',
      status: 'pending',
      reason: 'policy',
      createdAt: now,
      expiresAt: new Date(now.getTime() + 3_600_000),
      createdBy: 'scan:x',
      ruleIds: ['org-audit-disabled'],
      plans: [
        {
          findingKey: 'org-audit-disabled|contoso.example',
          episode: 1,
          ruleId: 'org-audit-disabled',
          objectType: 'organization',
          objectId: 'contoso.example',
          userPrincipalName: 'contoso.example',
          change: { kind: 'set-organization-config', auditDisabled: false },
          description: 'Set-OrganizationConfig -AuditDisabled $false',
          idempotencyKey: 'k',
        },
      ],
      etag: '*',
    };
    const dashboard = new Dashboard({
      history,
      access: { kind: 'local' },
      approvals: { list: async () => [pending] },
      signingKey: SIGNING_KEY,
      publicBaseUrl: PUBLIC_BASE_URL,
    });
    const response = await dashboard.handle({ headers: {} }, silentLogger);
    const link = /href="([^"]*d=approve[^"]*)"/.exec(response.body)?.[1]?.replace(/&amp;/g, '&');
    expect(link?.startsWith(`${PUBLIC_BASE_URL}/api/approvals/apr-dashboard-1?`)).toBe(true);
    const verified = verifyApprovalToken(new URL(link!).searchParams.get('t'), { requestId: 'apr-dashboard-1', decision: 'approve' }, SIGNING_KEY);
    expect(verified.ok && Date.parse(verified.claims.expiresAt)).toBe(pending.expiresAt.getTime());
  });
});
