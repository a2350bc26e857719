import { createHash, randomBytes } from 'node:crypto';
import {
  APPROVAL_PAGE_HEADERS,
  type ApprovalChangeView,
  type ApprovalResultPage,
  ApprovalSigningKey,
  approvalPath,
  issueApprovalFormToken,
  parseApprovalForm,
  renderConfirmationPage,
  renderResultPage,
  signApprovalLink,
} from '../../../shared/approval';
import { ValidationError } from '../../../shared/errors';

const KEY_TEXT = randomBytes(32).toString('base64');
const key = ApprovalSigningKey.parse(KEY_TEXT);
const NOW = new Date('2026-06-01T02:00:00Z');
const HOSTILE = '<script>alert(1)</script>"\'&@contoso.example';

const request: ApprovalChangeView = {
  requestId: 'req-000042',
  ruleId: 'audit-bypass-enabled',
  objectUpn: HOSTILE,
  objectId: 'b1c2d3e4-0000-1111-2222-333344445555',
  change: `Set-MailboxAuditBypassAssociation -Identity '${HOSTILE}' -AuditBypassEnabled $false`,
  actual: 'true',
  expected: 'false',
  expiresAt: new Date('2026-06-04T02:00:00Z'),
};

function confirmation(decision: 'approve' | 'reject' = 'approve'): { html: string; linkToken: string; formToken: string } {
  const url = signApprovalLink({ requestId: request.requestId, decision }, key, 'https://x.example', NOW);
  const linkToken = new URL(url).searchParams.get('t') as string;
  const formToken = issueApprovalFormToken({ requestId: request.requestId, decision, approverId: 'abc' }, key, NOW);
  const html = renderConfirmationPage({
    request,
    decision,
    approver: { name: '<b>mallory</b>@contoso.example' },
    form: { action: approvalPath(request.requestId), linkToken, formToken },
  });
  return { html, linkToken, formToken };
}

describe('renderConfirmationPage', () => {
  it('escapes hostile UPNs and change text everywhere', () => {
    const { html } = confirmation();
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>mallory');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;@contoso.example');
    expect(html).toContain('&lt;b&gt;mallory&lt;/b&gt;@contoso.example');
  });

  it('shows what exactly will change: rule, object, current and expected value, the cmdlet call', () => {
    const { html } = confirmation();
    expect(html).toContain('An account bypasses mailbox auditing');
    expect(html).toContain('audit-bypass-enabled');
    expect(html).toContain(request.objectId);
    expect(html).toContain('Set-MailboxAuditBypassAssociation -Identity &#39;');
    expect(html).toContain('-AuditBypassEnabled $false');
    expect(html).toContain('Opening this page changed nothing');
  });

  it('POSTs a form with the decision, the link token and the anti-forgery token, once each', () => {
    const { html, linkToken, formToken } = confirmation();
    expect(html).toMatch(/<form method="post" action="\/api\/approvals\/req-000042">/);
    expect(html).toContain(`<input type="hidden" name="d" value="approve">`);
    expect(html.split(linkToken)).toHaveLength(2);
    expect(html.split(formToken)).toHaveLength(2);
    expect(html).toContain(`name="t" value="${linkToken}"`);
    expect(html).toContain(`name="f" value="${formToken}"`);
    expect(html).not.toContain('<textarea');
  });

  it('asks for a reason when rejecting', () => {
    const { html } = confirmation('reject');
    expect(html).toMatch(/<textarea id="reason" name="reason" required maxlength="500">/);
    expect(html).toContain('Reject this change?');
  });

  it('sends no Referer, loads nothing external, and never shows the key', () => {
    const { html } = confirmation();
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
    expect(html).not.toMatch(/\b(src|href)=/i);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(html).not.toContain(KEY_TEXT);
  });

  it('sends a CSP whose style hash matches the one inline stylesheet', () => {
    const { html } = confirmation();
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(APPROVAL_PAGE_HEADERS['Content-Security-Policy']).toContain(`'sha256-${hash}'`);
    expect(APPROVAL_PAGE_HEADERS['Content-Security-Policy']).toContain("default-src 'none'");
    expect(APPROVAL_PAGE_HEADERS['Content-Security-Policy']).toContain("frame-ancestors 'none'");
    expect(APPROVAL_PAGE_HEADERS['Referrer-Policy']).toBe('no-referrer');
    expect(APPROVAL_PAGE_HEADERS['Cache-Control']).toBe('no-store');
  });
});

function label(page: ApprovalResultPage): string {
  const detail = 'decision' in page ? page.decision : 'reason' in page ? page.reason : undefined;
  return detail ? `${page.kind} (${detail})` : page.kind;
}

describe('renderResultPage', () => {
  const pages: Array<[ApprovalResultPage, number, string]> = [
    [{ kind: 'decided', request, decision: 'approve', approverName: HOSTILE, decidedAt: NOW }, 200, 'the change is queued'],
    [
      { kind: 'decided', request, decision: 'reject', approverName: 'a@b.example', decidedAt: NOW, reason: '<img src=x onerror=alert(1)>' },
      200,
      'Rejected',
    ],
    [{ kind: 'already-decided', decision: 'approve', decidedBy: HOSTILE, decidedAt: NOW }, 409, 'already decided'],
    [{ kind: 'expired', expiredAt: NOW }, 410, 'expired'],
    [{ kind: 'forbidden', principalName: HOSTILE }, 403, 'not on the approver list'],
    [{ kind: 'invalid-link', reason: 'bad-signature' }, 403, 'not valid'],
    [{ kind: 'invalid-link', reason: 'malformed' }, 400, 'not valid'],
    [{ kind: 'form-expired' }, 403, 'expired'],
    [{ kind: 'unauthenticated' }, 401, 'Sign-in required'],
    [{ kind: 'not-found' }, 404, 'No such approval request'],
  ];

  it.each(pages.map(([input, status, text]) => [label(input), input, status, text] as const))(
    'renders %s with its status, escaped',
    (_name, input, status, text) => {
    const page = renderResultPage(input);
    expect(page.status).toBe(status);
    expect(page.html).toContain(text);
    expect(page.html).not.toMatch(/<(script|img)\b/i);
    expect(page.html).toContain('<meta name="referrer" content="no-referrer">');
    },
  );

  it('says nothing was changed on every refusal', () => {
    for (const [input] of pages.filter(([page]) => page.kind !== 'decided')) {
      expect(renderResultPage(input).html).toContain('Nothing was changed.');
    }
  });
});

describe('parseApprovalForm', () => {
  it('reads an approval', () => {
    expect(parseApprovalForm('d=approve&t=abc.def&f=ghi.jkl')).toEqual({ decision: 'approve', linkToken: 'abc.def', formToken: 'ghi.jkl' });
  });

  it('reads a rejection with its reason, trimmed and without control characters', () => {
    const body = new URLSearchParams({ d: 'reject', t: 'a.b', f: 'c.d', reason: '  service account, \u0007approved by CAB 4711  ' });
    expect(parseApprovalForm(body)).toEqual({
      decision: 'reject',
      linkToken: 'a.b',
      formToken: 'c.d',
      reason: 'service account, approved by CAB 4711',
    });
  });

  it.each([
    ['a rejection without a reason', 'd=reject&t=a.b&f=c.d&reason=%20%20'],
    ['an unknown decision', 'd=maybe&t=a.b&f=c.d'],
    ['no anti-forgery token', 'd=approve&t=a.b'],
    ['a field given twice', 'd=approve&d=reject&t=a.b&f=c.d'],
    ['an overlong reason', `d=reject&t=a.b&f=c.d&reason=${'x'.repeat(501)}`],
  ])('refuses %s', (_name, body) => {
    expect(() => parseApprovalForm(body)).toThrow(ValidationError);
  });
});
