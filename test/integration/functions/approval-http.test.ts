import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { createApprovalHandler } from '../../../functions/approval-http';
import { issueApprovalFormToken, signApprovalLink, signApprovalLinks } from '../../../shared/approval/links';
import { ApprovalFlow } from '../../../shared/web/approval-flow';
import { planRemediation } from '../../../shared/services/remediation';
import { readForm } from '../../../scripts/approval-client';
import { TeamsNotifier } from '../../../shared/services/teams-digest';
import type { RemediationEnvironment } from '../../../shared/app/remediation-environment';
import type { ApprovalRequest } from '../../../shared/store/approvals';
import { startTeamsWebhookReceiver, type TeamsWebhookReceiver } from '../../../sim/teams-webhook';
import type { Harness } from '../../support/harness';
import { registrationsOf } from '../../support/registrations';
import {
  ALICE,
  approvalFixture,
  APPROVERS,
  BOB,
  capturingContext,
  getRequest,
  MALLORY,
  observable,
  postRequest,
  PUBLIC_BASE_URL,
  SIGNING_KEY,
  type LogLine,
} from '../../support/approval';

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * Changes one character inside a token's signature. A middle character carries six full bits, so
 * the result is still canonical base64url: the change is caught by the HMAC, not by the decoder.
 */
function flipInSignature(token: string): string {
  const at = token.length - 10;
  const char = token[at]!;
  return `${token.slice(0, at)}${char === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}

describe('approval HTTP function', () => {
  let h: Harness;
  let environment: RemediationEnvironment;
  let requests: ApprovalRequest[];
  let receiver: TeamsWebhookReceiver;
  let handler: Handler;
  const logs: LogLine[] = [];

  beforeAll(async () => {
    ({ h, environment, requests } = await approvalFixture());
    // The seeded tenant's drift mix may leave a single mailbox with AuditEnabled False; bypassing
    // accounts (approval by default) make sure there are requests enough for the tests below.
    if (requests.length < 3) {
      requests.push(...(await planRemediation(environment.services, { requestedBy: 'scan:test', ruleId: 'audit-bypass-enabled' })).approvalRequests);
    }
    receiver = await startTeamsWebhookReceiver();
    const teams = new TeamsNotifier({ settings: { TEAMS_WEBHOOK_URL: receiver.url, PUBLIC_BASE_URL }, sender: { retry: { maxRetries: 0 } } });
    const flow = new ApprovalFlow({ services: environment.services, signingKey: SIGNING_KEY, approvers: APPROVERS, trustPrincipalHeaders: true, teams });
    handler = createApprovalHandler(async () => flow);
  });
  afterAll(async () => {
    await receiver?.stop();
    await h?.stop();
  });

  const call = async (request: HttpRequest) => {
    const response = await handler(request, capturingContext('approval', logs).context);
    return { status: response.status ?? 200, body: String(response.body ?? ''), headers: response.headers as Record<string, string> };
  };
  const links = (request: ApprovalRequest) => signApprovalLinks(request.requestId, SIGNING_KEY, PUBLIC_BASE_URL);
  /** GET the link as `principal` and return the form the page would POST. */
  const confirm = async (link: string, principal = ALICE) => {
    const page = await call(getRequest(link, principal));
    expect(page.status).toBe(200);
    return readForm(page.body)!.fields;
  };
  /** Runs `act` and checks that the queue, the request, its findings and their events did not move. */
  const changesNothing = async (request: ApprovalRequest, act: () => Promise<void>) => {
    const before = await observable(h, request);
    await act();
    expect(await observable(h, request)).toEqual(before);
    expect(before.status).toBe('pending');
  };

  it('registers GET and POST on approvals/{requestId}, anonymous at the function level (Easy Auth guards it)', () => {
    expect(registrationsOf('../../functions/approval-http').map(({ kind, name, options }) => ({ kind, name, ...options, handler: typeof options.handler }))).toEqual([
      { kind: 'http', name: 'approval', authLevel: 'anonymous', methods: ['GET', 'POST'], route: 'approvals/{requestId}', handler: 'function' },
    ]);
  });

  it('has pending requests to work with: org auditing, mailboxes with auditing off, and bypassing accounts when needed', () => {
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(requests.every((request) => request.status === 'pending')).toBe(true);
  });

  it('GET of an approve or a reject link shows exactly what would change, with a form token, and decides nothing', async () => {
    const request = requests[0]!;
    await changesNothing(request, async () => {
      for (const link of [links(request).approveUrl, links(request).rejectUrl, links(request).approveUrl]) {
        const page = await call(getRequest(link, ALICE));
        expect(page.status).toBe(200);
        expect(page.headers['Content-Security-Policy']).toMatch(/default-src 'none'/);
        expect(page.body).toContain(request.plans[0]!.description.replace(/'/g, '&#39;'));
        expect(page.body).toContain('Opening this page changed nothing');
        expect(readForm(page.body)?.fields).toEqual({ d: expect.stringMatching(/^(approve|reject)$/), t: new URL(link).searchParams.get('t'), f: expect.any(String) });
      }
    });
  });

  it('a tampered signature: 403 on GET and POST, nothing changes', async () => {
    const request = requests[0]!;
    const link = new URL(links(request).approveUrl);
    const token = link.searchParams.get('t')!;
    const tampered = flipInSignature(token);
    link.searchParams.set('t', tampered);
    const form = await confirm(links(request).approveUrl);
    await changesNothing(request, async () => {
      expect((await call(getRequest(link.toString(), ALICE))).status).toBe(403);
      expect((await call(postRequest(request.requestId, { ...form, t: tampered }, ALICE))).status).toBe(403);
      // A form token that was itself altered.
      expect((await call(postRequest(request.requestId, { ...form, f: flipInSignature(form.f!) }, ALICE))).status).toBe(403);
    });
  });

  it('a changed decision (an approve link with d=reject, an approve form posted as reject): 403, nothing changes', async () => {
    const request = requests[0]!;
    const link = new URL(links(request).approveUrl);
    link.searchParams.set('d', 'reject');
    const form = await confirm(links(request).approveUrl);
    await changesNothing(request, async () => {
      expect((await call(getRequest(link.toString(), ALICE))).status).toBe(403);
      expect((await call(postRequest(request.requestId, { ...form, d: 'reject', reason: 'changed my mind' }, ALICE))).status).toBe(403);
      // A link for another request, replayed against this one.
      const other = links(requests[1]!).approveUrl;
      const moved = new URL(links(request).approveUrl);
      moved.searchParams.set('t', new URL(other).searchParams.get('t')!);
      expect((await call(getRequest(moved.toString(), ALICE))).status).toBe(403);
    });
  });

  it('a malformed link or form: 400, nothing changes', async () => {
    const request = requests[0]!;
    const link = new URL(links(request).approveUrl);
    const form = await confirm(link.toString());
    await changesNothing(request, async () => {
      const noToken = new URL(link);
      noToken.searchParams.delete('t');
      expect((await call(getRequest(noToken.toString(), ALICE))).status).toBe(400);
      const garbage = new URL(link);
      garbage.searchParams.set('t', 'not a token');
      expect((await call(getRequest(garbage.toString(), ALICE))).status).toBe(400);
      const badId = await call(getRequest(`${PUBLIC_BASE_URL}/api/approvals/${encodeURIComponent('../etc')}?d=approve&t=x`, ALICE));
      expect(badId.status).toBe(400);
      expect((await call(postRequest(request.requestId, { d: 'approve', t: form.t! }, ALICE))).status).toBe(400);
      expect((await call(postRequest(request.requestId, form, ALICE, { contentType: 'application/json' }))).status).toBe(400);
      // A rejection needs a reason.
      const rejectForm = await confirm(links(request).rejectUrl);
      expect((await call(postRequest(request.requestId, rejectForm, ALICE))).status).toBe(400);
    });
  });

  it('an expired link: 410 on GET and POST, nothing changes', async () => {
    const request = requests[0]!;
    const signedAt = new Date(Date.now() - 4 * 86_400_000);
    const expired = signApprovalLink({ requestId: request.requestId, decision: 'approve', expiresAt: new Date(signedAt.getTime() + 3 * 86_400_000) }, SIGNING_KEY, PUBLIC_BASE_URL, signedAt);
    const formToken = issueApprovalFormToken({ requestId: request.requestId, decision: 'approve', approverId: ALICE.id }, SIGNING_KEY);
    await changesNothing(request, async () => {
      expect((await call(getRequest(expired, ALICE))).status).toBe(410);
      expect((await call(postRequest(request.requestId, { d: 'approve', t: new URL(expired).searchParams.get('t')!, f: formToken }, ALICE))).status).toBe(410);
      // An expired confirmation page (form token) with a live link.
      const staleForm = issueApprovalFormToken({ requestId: request.requestId, decision: 'approve', approverId: ALICE.id }, SIGNING_KEY, signedAt);
      expect((await call(postRequest(request.requestId, { d: 'approve', t: new URL(links(request).approveUrl).searchParams.get('t')!, f: staleForm }, ALICE))).status).toBe(403);
    });
  });

  it('a missing or forged principal: 401; a form fetched by one user and posted by another: 403; nothing changes', async () => {
    const request = requests[0]!;
    const link = links(request).approveUrl;
    const form = await confirm(link);
    await changesNothing(request, async () => {
      expect((await call(getRequest(link))).status).toBe(401);
      expect((await call(postRequest(request.requestId, form))).status).toBe(401);
      // Headers that disagree: the client principal names someone else than the -id header.
      const forged = { 'x-ms-client-principal-id': MALLORY.id };
      expect((await call(postRequest(request.requestId, form, ALICE, { headers: forged }))).status).toBe(401);
      expect((await call(getRequest(link, ALICE, { 'x-ms-client-principal': 'not-base64!' }))).status).toBe(401);
      // Alice's page, submitted with Bob's sign-in (an approver too): the form token is bound to Alice.
      expect((await call(postRequest(request.requestId, form, BOB))).status).toBe(403);
    });
  });

  it('an approver not on the list: 403 on GET and POST, nothing changes', async () => {
    const request = requests[0]!;
    const link = links(request).approveUrl;
    const ownForm = { d: 'approve', t: new URL(link).searchParams.get('t')!, f: issueApprovalFormToken({ requestId: request.requestId, decision: 'approve', approverId: MALLORY.id }, SIGNING_KEY) };
    await changesNothing(request, async () => {
      const page = await call(getRequest(link, MALLORY));
      expect(page.status).toBe(403);
      expect(page.body).toContain('mallory@contoso.example is not named in APPROVERS');
      expect((await call(postRequest(request.requestId, ownForm, MALLORY))).status).toBe(403);
    });
  });

  it('without Easy Auth in front (trustPrincipalHeaders false) the same headers get 401', async () => {
    const request = requests[0]!;
    const untrusting = createApprovalHandler(async () => new ApprovalFlow({ services: environment.services, signingKey: SIGNING_KEY, approvers: APPROVERS, trustPrincipalHeaders: false }));
    await changesNothing(request, async () => {
      expect((await untrusting(getRequest(links(request).approveUrl, ALICE), capturingContext('approval', logs).context)).status).toBe(401);
    });
  });

  it('a valid approval POSTed twice at once applies once: one 200, one 409, one remediation queued, an "approved" event by the approver', async () => {
    const request = requests[0]!;
    const form = await confirm(links(request).approveUrl, BOB);
    const before = await observable(h, request);
    const cards = receiver.deliveries.length;
    const responses = await Promise.all([call(postRequest(request.requestId, form, BOB)), call(postRequest(request.requestId, form, BOB))]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    expect(responses.find((response) => response.status === 200)!.body).toContain('Approved by bob@contoso.example');

    const after = await observable(h, request);
    expect(after.queued).toBe(before.queued + request.plans.length);
    expect(after).toMatchObject({ status: 'approved', decidedBy: 'bob@contoso.example' });
    expect(after.findings.every((line) => line.endsWith('|remediating'))).toBe(true);
    expect(after.events.filter((event) => event === 'approved|bob@contoso.example')).toHaveLength(request.plans.length);

    // The follow-up card: one, clean, naming who decided.
    expect(receiver.deliveries.length).toBe(cards + 1);
    const card = receiver.deliveries.at(-1)!;
    expect(card.issues).toEqual([]);
    expect(JSON.stringify(card.card)).toContain('Approved by bob@contoso.example');

    // Replayed later (the same form, the same link, a fresh page): 409, nothing more.
    const replay = await call(postRequest(request.requestId, form, BOB));
    expect(replay.status).toBe(409);
    expect((await call(getRequest(links(request).approveUrl, ALICE))).status).toBe(409);
    expect(await observable(h, request)).toEqual(after);
  });

  it('a rejection records the reason as a drift event, queues nothing, and tells the channel', async () => {
    const request = requests[1]!;
    const form = await confirm(links(request).rejectUrl);
    const before = await observable(h, request);
    const response = await call(postRequest(request.requestId, { ...form, reason: 'Mailbox is being decommissioned' }, ALICE));
    expect(response.status).toBe(200);
    expect(response.body).toContain('Mailbox is being decommissioned');
    const after = await observable(h, request);
    expect(after).toMatchObject({ queued: before.queued, status: 'rejected', decidedBy: 'alice@contoso.example' });
    expect(after.events).toContain('rejected|alice@contoso.example');
    const events = await h.events(request.plans[0]!.objectId);
    expect(events.find((event) => event.type === 'rejected')?.reason).toBe('Mailbox is being decommissioned');
    expect(JSON.stringify(receiver.deliveries.at(-1)!.card)).toContain('Mailbox is being decommissioned');
    // The approve link of a rejected request: 409.
    expect((await call(getRequest(links(request).approveUrl, ALICE))).status).toBe(409);
  });

  it('a Teams failure after a decision is logged, not fatal', async () => {
    const request = requests[2]!;
    const broken = new TeamsNotifier({ settings: { TEAMS_WEBHOOK_URL: receiver.url.replace(/sig=[^&]+/, 'sig=wrong-signature-value') }, sender: { retry: { maxRetries: 0 } } });
    const flow = new ApprovalFlow({ services: environment.services, signingKey: SIGNING_KEY, approvers: APPROVERS, trustPrincipalHeaders: true, teams: broken });
    const lines: LogLine[] = [];
    const form = await confirm(links(request).approveUrl);
    const response = await createApprovalHandler(async () => flow)(postRequest(request.requestId, form, ALICE), capturingContext('approval', lines).context);
    expect(response.status).toBe(200);
    expect(lines.some((line) => line.level === 'error' && line.text.includes('Could not post the decision to Teams'))).toBe(true);
    expect(lines.map((line) => line.text).join('\n')).not.toContain('wrong-signature-value');
  });

  it('answers 500 with a page, and logs why, when the app is not configured', async () => {
    const lines: LogLine[] = [];
    const unconfigured = createApprovalHandler(async () => new ApprovalFlow({ services: environment.services, signingKey: undefined, approvers: APPROVERS, trustPrincipalHeaders: true }));
    const response = await unconfigured(getRequest(links(requests[0]!).approveUrl, ALICE), capturingContext('approval', lines).context);
    expect(response.status).toBe(500);
    expect(lines.find((line) => line.level === 'error')?.text).toMatch(/APPROVAL_SIGNING_KEY is not set/);
  });

  it('never logs a link or form token', () => {
    const text = logs.map((line) => line.text).join('\n');
    expect(text).toMatch(/Approval request refused/);
    // Tokens are base64url(payload).base64url(32-byte HMAC).
    expect(text).not.toMatch(/[A-Za-z0-9_-]{40,}\.[A-Za-z0-9_-]{43}/);
  });
});
