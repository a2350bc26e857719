import { findingKey } from '../../../../shared/domain/finding';
import { approve, planRemediation } from '../../../../shared/services/remediation';
import { assignGroupLicences, SKU_E5, TEAMS_PLAN_ID, type SimGroup, type SimUser } from '../../../../sim';
import { startHarness, type Harness } from '../../../support/harness';

const SHAREPOINT_PLAN_ID = '5dbe027f-2339-4123-9542-606e4d348a72';
const LICENCE_RULE = 'licence-inherited-blocks-mia';

/** The "(no Teams)" E5 licensing group: its assignment disables Teams. */
function noTeamsGroup(h: Harness): SimGroup {
  return h.sim.tenant.groups.find((group) => /no Teams/.test(group.displayName))!;
}

/** A user with the group-licensing failure through that group, which reprocessing does not clear. */
function stubbornFailure(h: Harness, withUsageLocation = true): SimUser {
  const group = noTeamsGroup(h);
  const user = h.sim.tenant.users.find(
    (candidate) =>
      candidate.groupProvisioningFailed &&
      !candidate.reprocessRepairs &&
      Boolean(candidate.usageLocation) === withUsageLocation &&
      (!withUsageLocation || candidate.licences.some((licence) => licence.assignedByGroup === group.id)),
  );
  if (!user) throw new Error('the simulated tenant has no such user; pick another seed');
  return user;
}

async function licenceEvents(h: Harness, user: SimUser): Promise<string[]> {
  return (await h.events(user.id)).filter((event) => event.ruleId === LICENCE_RULE).map((event) => event.type).reverse();
}

describe('the group-licensing fix, in two steps', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('reprocesses first; when a later scan still finds Exchange refusing, assigns the SKU directly, approved, keeping the group\'s disabled plans', async () => {
    h = await startHarness({ seed: 11, mailboxes: 30 });
    const user = stubbornFailure(h);
    const key = findingKey({ ruleId: LICENCE_RULE, objectId: user.id });
    await h.scan();
    const environment = h.open();

    // Night 1: step 1 runs by itself (it changes no plan and takes no seat).
    const night1 = await planRemediation(environment.services, { requestedBy: 'scan:n1', mailbox: user.id });
    expect(night1.changes.find((change) => change.plan.ruleId === LICENCE_RULE)).toMatchObject({
      mode: 'auto',
      plan: { change: { kind: 'reprocess-licence', userId: user.id } },
    });
    await h.drain(environment, { concurrency: 1 });
    expect(h.sim.received.reprocessLicenseAssignment).toEqual([{ userId: user.id }]);
    expect((await h.store.findings.get(h.tenantId, { ruleId: LICENCE_RULE, objectId: user.id }))?.status).toBe('open');

    // The same night again: no scan has looked since the reprocess, so nothing is proposed yet.
    const sameNight = await planRemediation(environment.services, { requestedBy: 'cli:test', mailbox: user.id, ruleId: LICENCE_RULE, whatIf: true });
    expect(sameNight.changes).toEqual([]);
    expect(sameNight.advice).toEqual([expect.objectContaining({ findingKey: key, reason: expect.stringMatching(/waiting for a scan after that/) })]);

    // Night 2: the scan still finds the failure, so step 2 is proposed — for approval.
    await h.scan();
    const night2 = await planRemediation(environment.services, { requestedBy: 'scan:n2', mailbox: user.id });
    const step2 = night2.changes.find((change) => change.plan.ruleId === LICENCE_RULE)!;
    expect(step2.mode).toBe('approval');
    expect(step2.approvalReason).toBe('a direct licence assignment is always approved by a person');
    expect(step2.plan.change).toEqual({
      kind: 'assign-licence',
      userId: user.id,
      skuId: SKU_E5.skuId,
      skuPartNumber: 'SPE_E5',
      groupDisabledPlans: [TEAMS_PLAN_ID],
      disabledPlans: [TEAMS_PLAN_ID],
      planNames: { [TEAMS_PLAN_ID]: 'TEAMS1' },
    });
    const request = night2.approvalRequests.find((item) => item.ruleIds.includes(LICENCE_RULE))!;
    const text = request.plans[0]!.description;
    expect(text).toContain(`POST /v1.0/users/${user.id}/assignLicense {"addLicenses":[{"skuId":"${SKU_E5.skuId}","disabledPlans":["${TEAMS_PLAN_ID}"]}],"removeLicenses":[]}`);
    expect(text).toContain('Assigns SPE_E5');
    expect(text).toContain(`TEAMS1 (${TEAMS_PLAN_ID})`);
    expect(text).toMatch(/stays after the user leaves the group/);

    await approve(environment.services, request.requestId, 'alice@contoso.example');
    await h.drain(environment, { concurrency: 1 });

    // What the tenant received: the group's disabled plan kept disabled, nothing else changed.
    expect(h.sim.received.assignLicense).toEqual([
      { userId: user.id, body: { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID] }], removeLicenses: [] } },
    ]);
    const e5 = user.licences.filter((licence) => licence.skuId === SKU_E5.skuId);
    expect(e5.map((licence) => licence.assignedByGroup === null).sort()).toEqual([false, true]);
    expect(e5.every((licence) => licence.disabledPlans.includes(TEAMS_PLAN_ID))).toBe(true);

    // Recorded so it can be removed later.
    const records = await environment.remediations.forFinding(h.tenantId, user.id, key);
    expect(records.map((record) => [record.change.kind, record.status])).toEqual([
      ['reprocess-licence', 'verified'],
      ['assign-licence', 'verified'],
    ]);
    expect(records[1]!.directLicence).toEqual({ userId: user.id, skuId: SKU_E5.skuId, skuPartNumber: 'SPE_E5', disabledPlans: [TEAMS_PLAN_ID] });
    const listed = [];
    for await (const record of environment.remediations.directLicences(h.tenantId)) listed.push(record.directLicence);
    expect(listed).toEqual([records[1]!.directLicence]);
    expect(await licenceEvents(h, user)).toEqual(['detected', 'remediated', 'verified', 'approved', 'remediated', 'verified']);
    expect((await h.store.mailboxes.current(h.tenantId, user.id))?.miaRefusedAt).toBeUndefined();

    // Night 3: the MailItemsAccessed additions the licence blocked are tried once more and hold.
    await h.scan();
    await planRemediation(environment.services, { requestedBy: 'scan:n3', mailbox: user.id });
    await h.drain(environment);
    await h.scan();
    const left = (await h.findings('active')).filter((finding) => finding.objectId === user.id);
    expect(left).toEqual([]);
  }, 60_000);

  it('refuses, at the point of application, an approved assignment whose body the group has changed since, and proposes the new one', async () => {
    h = await startHarness({ seed: 11, mailboxes: 30 });
    const user = stubbornFailure(h);
    await h.scan();
    const environment = h.open();
    await planRemediation(environment.services, { requestedBy: 'scan:n1', mailbox: user.id, ruleId: LICENCE_RULE });
    await h.drain(environment);
    await h.scan();
    const night2 = await planRemediation(environment.services, { requestedBy: 'scan:n2', mailbox: user.id, ruleId: LICENCE_RULE });
    const request = night2.approvalRequests[0]!;

    // Meanwhile an admin also switches SharePoint off in the group's assignment. The approved body
    // (Teams off only) would now switch SharePoint on for this user.
    assignGroupLicences(h.sim.tenant, noTeamsGroup(h), { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID, SHAREPOINT_PLAN_ID] }], removeLicenses: [] });
    await approve(environment.services, request.requestId, 'alice@contoso.example');
    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ failed: 1 });
    expect(h.sim.received.assignLicense).toEqual([]);
    const finding = await h.store.findings.get(h.tenantId, { ruleId: LICENCE_RULE, objectId: user.id });
    expect(finding?.status).toBe('open');
    const events = (await h.events(user.id)).filter((event) => event.ruleId === LICENCE_RULE);
    expect(events[0]).toMatchObject({ type: 'failed', reason: expect.stringMatching(/^Nothing was assigned: .* group licences changed since the change was approved/) });
    expect(events[0]!.reason).toContain(`"disabledPlans":["${TEAMS_PLAN_ID}"]`);
    expect(events[0]!.reason).toContain(`"disabledPlans":["${TEAMS_PLAN_ID}","${SHAREPOINT_PLAN_ID}"]`);

    // The next run asks again, for the body as it is now.
    const again = await planRemediation(environment.services, { requestedBy: 'cli:test', mailbox: user.id, ruleId: LICENCE_RULE });
    expect(again.approvalRequests[0]!.plans[0]!.change).toMatchObject({ kind: 'assign-licence', disabledPlans: [TEAMS_PLAN_ID, SHAREPOINT_PLAN_ID] });
  }, 60_000);

  it('gives advice instead of asking to approve an assignment Graph would refuse (no usage location)', async () => {
    h = await startHarness({ seed: 11, mailboxes: 30 });
    const user = stubbornFailure(h, false);
    await h.scan();
    const environment = h.open();
    await planRemediation(environment.services, { requestedBy: 'scan:n1', mailbox: user.id, ruleId: LICENCE_RULE });
    await h.drain(environment);
    await h.scan();
    const night2 = await planRemediation(environment.services, { requestedBy: 'scan:n2', mailbox: user.id, ruleId: LICENCE_RULE });
    expect(night2.approvalRequests).toEqual([]);
    expect(night2.advice).toEqual([expect.objectContaining({ reason: expect.stringMatching(/has no usage location, and Microsoft Graph refuses to assign a licence without one/) })]);
  }, 60_000);
});
