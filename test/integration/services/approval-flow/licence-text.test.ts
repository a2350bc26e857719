import type { HttpRequest } from '@azure/functions';
import { createApprovalHandler } from '../../../../functions/approval-http';
import { signApprovalLinks } from '../../../../shared/approval/links';
import { approveCommand } from '../../../../shared/cli/commands/approve';
import { ApprovalFlow } from '../../../../shared/web/approval-flow';
import { summariseApprovalRequest } from '../../../../shared/services/approval-view';
import { planRemediation } from '../../../../shared/services/remediation';
import type { ApprovalRequest } from '../../../../shared/store/approvals';
import { buildDigestCard } from '../../../../shared/teams/cards';
import { SKU_E5, TEAMS_PLAN_ID } from '../../../../sim';
import { startHarness, type Harness } from '../../../support/harness';
import { ALICE, APPROVERS, capturingContext, getRequest, PUBLIC_BASE_URL, SIGNING_KEY } from '../../../support/approval';

const LICENCE_RULE = 'licence-inherited-blocks-mia';

/** The page's text as a person reads it (tags dropped, entities decoded). */
function visible(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function cardText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(cardText).join('\n');
  if (value && typeof value === 'object') return Object.values(value as Record<string, unknown>).map(cardText).join('\n');
  return '';
}

describe('what a person approving a direct licence assignment reads', () => {
  let h: Harness;
  let request: ApprovalRequest;
  const body = `{"addLicenses":[{"skuId":"${SKU_E5.skuId}","disabledPlans":["${TEAMS_PLAN_ID}"]}],"removeLicenses":[]}`;

  beforeAll(async () => {
    h = await startHarness({ seed: 11, mailboxes: 30 }, { settings: { APPROVAL_SIGNING_KEY: SIGNING_KEY, APPROVERS, PUBLIC_BASE_URL } });
    const noTeams = h.sim.tenant.groups.find((group) => /no Teams/.test(group.displayName))!;
    const user = h.sim.tenant.users.find(
      (candidate) => candidate.groupProvisioningFailed && !candidate.reprocessRepairs && candidate.usageLocation && candidate.licences.some((licence) => licence.assignedByGroup === noTeams.id),
    )!;
    // Step 1 (reprocess), a scan that still finds the failure, then step 2 is proposed.
    await h.scan();
    const environment = h.open();
    await planRemediation(environment.services, { requestedBy: 'scan:n1', mailbox: user.id, ruleId: LICENCE_RULE });
    await h.drain(environment);
    await h.scan();
    [request] = (await planRemediation(environment.services, { requestedBy: 'scan:n2', mailbox: user.id, ruleId: LICENCE_RULE })).approvalRequests as [ApprovalRequest];
  }, 60_000);
  afterAll(async () => h?.stop());

  it('the confirmation page shows the exact body, the SKU by name, the plans kept off by name, and that the licence outlives the group', async () => {
    const flow = new ApprovalFlow({ services: h.open().services, signingKey: SIGNING_KEY, approvers: APPROVERS, trustPrincipalHeaders: true });
    const handler = createApprovalHandler(async () => flow);
    const link = signApprovalLinks(request.requestId, SIGNING_KEY, PUBLIC_BASE_URL).approveUrl;
    const response = await handler(getRequest(link, ALICE) as HttpRequest, capturingContext('approval').context);
    expect(response.status ?? 200).toBe(200);
    const text = visible(String(response.body));
    expect(text).toContain(`/assignLicense ${body}`);
    expect(text).toContain(`Assigns SPE_E5 (${SKU_E5.skuId}) directly`);
    expect(text).toContain(`Stays disabled, as the group has it: TEAMS1 (${TEAMS_PLAN_ID})`);
    expect(text).toContain('the direct licence stays after the user leaves the group');
  });

  it('the Teams card, which shows only the start of a change, still carries the body, the SKU and that the licence stays', () => {
    const summary = summariseApprovalRequest(request);
    const card = buildDigestCard({
      tenantId: h.tenantId,
      scanId: 'scan-test',
      scannedAt: new Date(),
      countsByRule: { [LICENCE_RULE]: 1 },
      opened: [],
      resolved: [],
      autoFixed: { count: 0, examples: [] },
      approvals: [{ requestId: request.requestId, ruleId: summary.ruleId, objectUpn: summary.objectUpn, change: summary.change, approveUrl: `${PUBLIC_BASE_URL}/a`, rejectUrl: `${PUBLIC_BASE_URL}/r` }],
    });
    // The card escapes Markdown's brackets (\[); Teams shows them plain.
    const text = cardText(card).replace(/\\([[\]])/g, '$1');
    expect(text).toContain(body);
    expect(text).toContain('SPE_E5');
    expect(text).toContain('the direct licence stays after the user leaves the group');
  });

  it('the command line lists the same text', async () => {
    let stdout = '';
    const io = { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: () => undefined }, env: h.env, credential: h.credential };
    await approveCommand(() => h.open()).run([request.requestId, '--as', 'alice@contoso.example'], io);
    expect(stdout).toContain(body);
    expect(stdout).toContain('TEAMS1');
    expect(stdout).toContain('the direct licence stays after the user leaves the group');
  });
});
