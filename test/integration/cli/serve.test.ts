import { issueApprovalFormToken, signApprovalLinks } from '../../../shared/approval/links';
import { serveCommand, startLocalServer, type LocalServer } from '../../../shared/cli/commands/serve';
import type { CliIO } from '../../../shared/cli/io';
import { silentLogger } from '../../../shared/logging';
import { approveThroughEndpoint, decideThroughEndpoint, principalHeaders } from '../../../scripts/approval-client';
import type { RemediationEnvironment } from '../../../shared/app/remediation-environment';
import type { ApprovalRequest } from '../../../shared/store/approvals';
import type { Harness } from '../../support/harness';
import { ALICE, approvalFixture, MALLORY, observable, PUBLIC_BASE_URL, SIGNING_KEY } from '../../support/approval';

describe('audit-warden serve', () => {
  let h: Harness;
  let environment: RemediationEnvironment;
  let requests: ApprovalRequest[];
  const servers: LocalServer[] = [];

  beforeAll(async () => {
    ({ h, environment, requests } = await approvalFixture());
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await h?.stop();
  });

  const start = async (trustPrincipalHeaders: boolean) => {
    const server = await startLocalServer({ environment, trustPrincipalHeaders, port: 0, logger: silentLogger });
    servers.push(server);
    return server;
  };
  const approveUrl = (request: ApprovalRequest) => signApprovalLinks(request.requestId, SIGNING_KEY, PUBLIC_BASE_URL).approveUrl;

  it('serves the query routes and the dashboard through the function handlers', async () => {
    const server = await start(false);
    const dashboard = await fetch(`${server.url}/api/dashboard`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-/);
    const page = await dashboard.text();
    expect(page).toContain('Mailbox audit drift');
    expect(page).toContain(`Waiting for approval (${requests.length})`);
    expect(page).not.toMatch(/<script|src=/i);

    const findings = await fetch(`${server.url}/api/findings?rule=org-audit-disabled`);
    expect(findings.status).toBe(200);
    const body = (await findings.json()) as { items: Array<{ userPrincipalName: string }> };
    expect(body.items).toHaveLength(1);
    const history = await fetch(`${server.url}/api/mailboxes/${encodeURIComponent(body.items[0]!.userPrincipalName)}/history`);
    expect(history.status).toBe(200);
    expect((await fetch(`${server.url}/api/scans`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/events?type=nonsense`)).status).toBe(400);

    expect((await fetch(`${server.url}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/dashboard`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${server.url}/api/approvals/x`, { method: 'PUT' })).status).toBe(405);
  });

  it('without --trust-principal-headers refuses approvals with 401 whatever headers are sent, and changes nothing', async () => {
    const server = await start(false);
    const request = requests[0]!;
    const before = await observable(h, request);
    const result = await decideThroughEndpoint({ link: approveUrl(request), baseUrl: server.url, principal: ALICE });
    expect(result).toMatchObject({ confirmStatus: 401, decided: false });
    const post = await fetch(`${server.url}/api/approvals/${request.requestId}`, {
      method: 'POST',
      headers: { ...principalHeaders(ALICE), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        d: 'approve',
        t: new URL(approveUrl(request)).searchParams.get('t')!,
        f: issueApprovalFormToken({ requestId: request.requestId, decision: 'approve', approverId: ALICE.id }, SIGNING_KEY),
      }).toString(),
    });
    expect(post.status).toBe(401);
    expect(await observable(h, request)).toEqual(before);
  });

  it('with --trust-principal-headers approves through the real GET and POST, once', async () => {
    const server = await start(true);
    const request = requests[0]!;
    const before = await observable(h, request);
    expect(await decideThroughEndpoint({ link: approveUrl(request), baseUrl: server.url, principal: MALLORY })).toMatchObject({ confirmStatus: 403, decided: false });

    const approved = await approveThroughEndpoint({ approveUrl: approveUrl(request), baseUrl: server.url, principal: ALICE });
    expect(approved).toMatchObject({ confirmStatus: 200, status: 200, decided: true });
    expect(approved.page).toContain('Approved by alice@contoso.example');
    const after = await observable(h, request);
    expect(after).toMatchObject({ status: 'approved', decidedBy: 'alice@contoso.example', queued: before.queued + request.plans.length });

    expect(await approveThroughEndpoint({ approveUrl: approveUrl(request), baseUrl: server.url, principal: ALICE })).toMatchObject({ confirmStatus: 409, decided: false });
    expect(await observable(h, request)).toEqual(after);
  });

  it('the command prints the URL, warns loudly about trusted headers, and stops when asked', async () => {
    let stdout = '';
    let stderr = '';
    const io: CliIO = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: { ...h.env } };
    let dashboardStatus = 0;
    const command = serveCommand({
      openEnvironment: () => environment,
      untilStopped: async (server) => {
        dashboardStatus = (await fetch(`${server.url}/api/dashboard`)).status;
      },
    });
    expect(await command.run(['--port', '0', '--trust-principal-headers'], io)).toBe(0);
    expect(dashboardStatus).toBe(200);
    expect(stdout).toMatch(/^Audit Warden is serving http:\/\/127\.0\.0\.1:\d+\n/);
    expect(stdout).toContain('Stopped.');
    expect(stderr).toMatch(/WARNING: --trust-principal-headers/);

    stderr = '';
    expect(await command.run(['--port', '0'], io)).toBe(0);
    expect(stderr).not.toMatch(/WARNING/);
    await expect(command.run(['--port', 'eighty'], io)).rejects.toThrow(/--port must be a number/);
  });
});
