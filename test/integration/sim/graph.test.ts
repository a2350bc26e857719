import {
  ADVANCED_AUDITING_PLAN_ID,
  EXCHANGE_RESOURCE,
  generateTenant,
  groundTruth,
  MAIL_ITEMS_ACCESSED,
  SKU_E3,
  SKU_E5,
  startSimulatedTenant,
  TEAMS_PLAN_ID,
  type SimMailbox,
  type SimulatedTenantServer,
} from '../../../sim';
import { graphGet, graphPost, HASHTABLE, invoke, oracleFindingsFor, readJson } from '../../support/sim-api';

interface PlanEntry {
  servicePlanId: string;
  capabilityStatus: string;
}

interface UserPage {
  '@odata.context': string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: Record<string, unknown>[];
  error?: { code: string; message: string; innerError: Record<string, string> };
}

const EVENTUAL = { ConsistencyLevel: 'eventual' };
const LICENSED = 'assignedLicenses/$count ne 0';
const PLAN_ENABLED = `assignedPlans/any(a:a/servicePlanId eq ${ADVANCED_AUDITING_PLAN_ID} and a/capabilityStatus eq 'Enabled')`;

async function allPages(server: SimulatedTenantServer, path: string, headers: Record<string, string> = {}): Promise<{ users: Record<string, unknown>[]; pages: UserPage[] }> {
  const pages: UserPage[] = [];
  let url: string | undefined = `${server.baseUrl}/v1.0${path}`;
  while (url) {
    const page: { status: number; body: UserPage } = await graphGet<UserPage>(server, url, headers);
    expect(page.status).toBe(200);
    pages.push(page.body);
    url = page.body['@odata.nextLink'];
  }
  return { users: pages.flatMap((page) => page.value), pages };
}

describe('simulated Graph', () => {
  const tenant = generateTenant({ seed: 31, mailboxes: 1500 });
  let server: SimulatedTenantServer;
  beforeAll(async () => {
    server = await startSimulatedTenant({ tenant });
  });
  afterAll(async () => {
    await server.stop();
  });

  describe('GET /users', () => {
    it('returns the default property set without $select, 100 per page', async () => {
      const page = await graphGet<UserPage>(server, '/users');
      expect(page.status).toBe(200);
      expect(page.body.value).toHaveLength(100);
      expect(Object.keys(page.body.value[0] ?? {}).sort()).toEqual(
        ['businessPhones', 'displayName', 'givenName', 'id', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName'].sort(),
      );
      expect(page.body['@odata.context']).toBe(`${server.baseUrl}/v1.0/$metadata#users`);
      expect(page.body['@odata.nextLink']).toMatch(new RegExp(`^${server.baseUrl}/v1.0/users\\?.*\\$skiptoken=[A-Za-z0-9_-]+$`));
    });

    it('returns only the $select-ed properties; licence properties only when selected', async () => {
      const page = await graphGet<UserPage>(server, '/users?$select=id,userPrincipalName&$top=5');
      expect(page.body.value.map((user) => Object.keys(user).sort())).toEqual(Array(5).fill(['id', 'userPrincipalName']));
      expect(page.body['@odata.context']).toBe(`${server.baseUrl}/v1.0/$metadata#users(id,userPrincipalName)`);

      const licensed = await graphGet<UserPage>(server, '/users?$select=id,assignedLicenses,assignedPlans,licenseAssignmentStates,usageLocation&$top=50');
      const withLicence = licensed.body.value.find((user) => (user.assignedLicenses as unknown[]).length > 0);
      expect(withLicence).toMatchObject({
        assignedLicenses: [{ skuId: expect.any(String), disabledPlans: expect.any(Array) }],
        assignedPlans: expect.arrayContaining([expect.objectContaining({ servicePlanId: expect.any(String), capabilityStatus: expect.any(String), service: expect.any(String) })]),
        licenseAssignmentStates: [expect.objectContaining({ skuId: expect.any(String), state: 'Active', error: 'None' })],
      });
      expect((withLicence?.licenseAssignmentStates as { assignedByGroup: unknown }[])[0]).toHaveProperty('assignedByGroup');
    });

    it('refuses an unknown $select property as Graph does', async () => {
      const page = await graphGet<UserPage>(server, '/users?$select=id,favouriteColour');
      expect(page.status).toBe(400);
      expect(page.body.error).toMatchObject({ code: 'BadRequest', message: "Could not find a property named 'favouriteColour' on type 'microsoft.graph.user'." });
      expect(page.body.error?.innerError).toEqual({ date: expect.any(String), 'request-id': expect.any(String), 'client-request-id': expect.any(String) });
    });

    it.each(['0', '1000', 'abc'])('refuses $top=%s (1..999 only)', async (top) => {
      const page = await graphGet<UserPage>(server, `/users?$top=${top}`);
      expect(page.status).toBe(400);
      expect(page.body.error?.code).toBe('Request_UnsupportedQuery');
    });

    it('pages through every user with an opaque $skiptoken, keeping the query options', async () => {
      const { users, pages } = await allPages(server, '/users?$select=id,userPrincipalName&$top=400');
      expect(users).toHaveLength(tenant.users.length);
      expect(new Set(users.map((user) => user.id)).size).toBe(tenant.users.length);
      expect(pages.map((page) => page.value.length)).toEqual([400, 400, 400, 300]);
      expect(pages[0]?.['@odata.nextLink']).toContain('$select=id,userPrincipalName');
      expect(pages[0]?.['@odata.nextLink']).toContain('$top=400');
    });

    it('answers an expired or forged $skiptoken with Directory_ExpiredPageToken', async () => {
      const page = await graphGet<UserPage>(server, '/users?$skiptoken=bm9wZTox');
      expect(page.status).toBe(400);
      expect(page.body.error?.code).toBe('Directory_ExpiredPageToken');
    });
  });

  describe('advanced queries', () => {
    const licensedCount = tenant.users.filter((user) => user.licences.length > 0).length;
    const planEnabledCount = tenant.users.filter((user) =>
      user.licences.some((licence) => licence.skuId === SKU_E5.skuId && !licence.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID)),
    ).length;

    it.each([
      ['without ConsistencyLevel', `/users?$filter=${LICENSED}&$count=true`, {}],
      ['without $count=true', `/users?$filter=${LICENSED}`, EVENTUAL],
      ['lambda without ConsistencyLevel', `/users?$filter=${PLAN_ENABLED}&$count=true`, {}],
      ['lambda without $count=true', `/users?$filter=${PLAN_ENABLED}`, EVENTUAL],
    ])('refuses an advanced filter %s with Request_UnsupportedQuery', async (_case, path, headers) => {
      const page = await graphGet<UserPage>(server, encodeURI(path), headers);
      expect(page.status).toBe(400);
      expect(page.body.error?.code).toBe('Request_UnsupportedQuery');
    });

    it('refuses $count=true without ConsistencyLevel: eventual', async () => {
      const page = await graphGet<UserPage>(server, '/users?$count=true');
      expect(page.status).toBe(400);
    });

    it('filters licensed users and counts them, across pages', async () => {
      const { users, pages } = await allPages(server, encodeURI(`/users?$filter=${LICENSED}&$count=true&$top=500&$select=id,assignedLicenses`), EVENTUAL);
      expect(users).toHaveLength(licensedCount);
      expect(pages.every((page) => page['@odata.count'] === licensedCount)).toBe(true);
      expect(users.every((user) => (user.assignedLicenses as unknown[]).length > 0)).toBe(true);
    });

    it('filters users whose Advanced Auditing plan is Enabled (group-inherited ones included)', async () => {
      const path = `/users?$filter=${encodeURIComponent(PLAN_ENABLED)}&$count=true&$top=999&$select=id,assignedPlans,licenseAssignmentStates`;
      const { users, pages } = await allPages(server, path, EVENTUAL);
      expect(pages[0]?.['@odata.count']).toBe(planEnabledCount);
      expect(users).toHaveLength(planEnabledCount);
      const failure = tenant.mailboxes.find((mailbox) => mailbox.drift?.groupFailure);
      expect(users.map((user) => user.id)).toContain(failure?.user.id);
    });

    it('accepts a SKU filter without advanced-query headers', async () => {
      const { users } = await allPages(server, encodeURI(`/users?$filter=assignedLicenses/any(x:x/skuId eq ${SKU_E3.skuId})&$top=999&$select=id`));
      expect(users).toHaveLength(tenant.users.filter((user) => user.licences.some((licence) => licence.skuId === SKU_E3.skuId)).length);
    });

    it('refuses a quoted GUID for an Edm.Guid property', async () => {
      const page = await graphGet<UserPage>(server, encodeURI(`/users?$filter=assignedLicenses/any(x:x/skuId eq '${SKU_E3.skuId}')`));
      expect(page.status).toBe(400);
      expect(page.body.error?.message).toContain('incompatible types');
    });

    it('refuses an unknown filter property and bad syntax', async () => {
      expect((await graphGet<UserPage>(server, encodeURI("/users?$filter=shoeSize eq '42'"))).status).toBe(400);
      expect((await graphGet<UserPage>(server, encodeURI('/users?$filter=assignedLicenses/any(x:x/skuId eq'))).status).toBe(400);
    });
  });

  describe('other resources', () => {
    it('gets one user by id or UPN, with $select, and 404s an unknown one', async () => {
      const user = tenant.users[0]!;
      const byId = await graphGet(server, `/users/${user.id}?$select=id,usageLocation`);
      expect(byId.body).toEqual({ '@odata.context': `${server.baseUrl}/v1.0/$metadata#users(id,usageLocation)/$entity`, id: user.id, usageLocation: user.usageLocation });
      const byUpn = await graphGet(server, `/users/${encodeURIComponent(user.userPrincipalName)}`);
      expect(byUpn.body.id).toBe(user.id);
      const missing = await graphGet<UserPage>(server, '/users/00000000-0000-0000-0000-000000000000');
      expect(missing.status).toBe(404);
      expect(missing.body.error?.code).toBe('Request_ResourceNotFound');
    });

    it('lists the subscribed SKUs: E5 with M365_ADVANCED_AUDITING, E3 without', async () => {
      const skus = await graphGet<{ value: { skuId: string; skuPartNumber: string; consumedUnits: number; prepaidUnits: { enabled: number }; servicePlans: { servicePlanId: string; servicePlanName: string }[] }[] }>(server, '/subscribedSkus');
      const e5 = skus.body.value.find((sku) => sku.skuId === SKU_E5.skuId);
      const e3 = skus.body.value.find((sku) => sku.skuId === SKU_E3.skuId);
      expect(e5?.servicePlans).toContainEqual(expect.objectContaining({ servicePlanId: ADVANCED_AUDITING_PLAN_ID, servicePlanName: 'M365_ADVANCED_AUDITING' }));
      expect(e3?.servicePlans.some((plan) => plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID)).toBe(false);
      expect(e5?.consumedUnits).toBeGreaterThan(0);
      expect(e5!.prepaidUnits.enabled).toBeGreaterThan(e5!.consumedUnits);
    });

    it('answers an unknown segment as Graph does', async () => {
      const page = await graphGet<UserPage>(server, '/nonsense');
      expect(page.status).toBe(400);
      expect(page.body.error?.message).toBe("Resource not found for the segment 'nonsense'.");
    });
  });

  describe('assignLicense', () => {
    it('fails for a user without usageLocation', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.drift?.groupFailure && m.user.usageLocation === null)!;
      const response = await graphPost<UserPage>(server, `/users/${mailbox.user.id}/assignLicense`, { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [] }], removeLicenses: [] });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'Request_BadRequest', message: 'License assignment cannot be done for user with invalid usage location.' });
    });

    it('refuses a malformed body and an unknown SKU', async () => {
      const user = tenant.users.find((u) => u.usageLocation !== null)!;
      expect((await graphPost(server, `/users/${user.id}/assignLicense`, { addLicenses: [] })).status).toBe(400);
      const unknown = await graphPost<UserPage>(server, `/users/${user.id}/assignLicense`, { addLicenses: [{ skuId: '11111111-1111-4111-8111-111111111111' }], removeLicenses: [] });
      expect(unknown.body.error?.message).toContain('does not correspond to a valid company License');
    });

    it('repairs the group-licensing failure with a direct assignment: the mailbox gains M365Auditing', async () => {
      const mailbox = tenant.mailboxes.find(
        (m) => m.drift?.groupFailure && m.user.usageLocation !== null && m.drift.customised.length === 0 && !m.drift.auditDisabled && !m.drift.auditLogAgeShort && m.user.licences[0]?.disabledPlans.length === 0,
      )!;
      const before = await invoke(server, 'Get-Mailbox', { Identity: mailbox.guid }, { select: ['PersistedCapabilities', 'AuditOwner'] });
      expect(before.body.value?.[0]?.PersistedCapabilities).not.toContain('M365Auditing');
      const refused = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditOwner: { '@odata.type': HASHTABLE, Add: [MAIL_ITEMS_ACCESSED] } });
      expect(refused.status).toBe(400);

      const response = await graphPost(server, `/users/${mailbox.user.id}/assignLicense`, { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [] }], removeLicenses: [] });
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(mailbox.user.id);

      const states = await graphGet(server, `/users/${mailbox.user.id}?$select=licenseAssignmentStates`);
      expect((states.body.licenseAssignmentStates as { assignedByGroup: string | null }[]).map((state) => state.assignedByGroup !== null).sort()).toEqual([false, true]);
      const after = await invoke(server, 'Get-Mailbox', { Identity: mailbox.guid }, { select: ['PersistedCapabilities', 'AuditOwner'] });
      expect(after.body.value?.[0]?.PersistedCapabilities).toContain('M365Auditing');
      // Logon types Microsoft still manages get MailItemsAccessed back.
      expect(after.body.value?.[0]?.AuditOwner).toContain(MAIL_ITEMS_ACCESSED);
      expect(groundTruth(tenant).filter((finding) => finding.objectId === mailbox.user.id)).toEqual([]);
    });

    it('disables the plan in an assignment: Graph shows it, Exchange drops the capability, the oracle follows', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.drift === null && m.user.licences.length === 1 && m.user.licences[0]?.skuId === SKU_E5.skuId && m.user.licences[0].assignedByGroup === null)!;
      const response = await graphPost(server, `/users/${mailbox.user.id}/assignLicense`, { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [ADVANCED_AUDITING_PLAN_ID] }], removeLicenses: [] });
      expect(response.status).toBe(200);
      const user = await graphGet(server, `/users/${mailbox.user.id}?$select=assignedPlans,assignedLicenses`);
      const audit = (user.body.assignedPlans as PlanEntry[]).find((plan) => plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID);
      expect(audit?.capabilityStatus).toBe('Deleted');
      expect(user.body.assignedLicenses).toEqual([{ skuId: SKU_E5.skuId, disabledPlans: [ADVANCED_AUDITING_PLAN_ID] }]);
      expect(mailbox.persistedCapabilities).not.toContain('M365Auditing');
      // 2026: MailItemsAccessed stays (Audit Standard has it); the plan decides retention only.
      expect(mailbox.audit.Owner).toContain(MAIL_ITEMS_ACCESSED);
      expect(oracleFindingsFor(groundTruth(tenant), mailbox.user.id)).toEqual(['advanced-auditing-plan-missing', 'audit-retention-too-short']);
    });
  });

  describe('direct + group assignments of the same SKU', () => {
    const noTeams = tenant.groups.find((group) => group.displayName.endsWith('(no Teams)'))!;
    const membersOf = (predicate: (mailbox: SimMailbox) => boolean): SimMailbox[] =>
      [...noTeams.members].map((index) => tenant.mailboxes[index]!).filter((m) => m.user.usageLocation !== null && m.user.licences.length === 1 && predicate(m));
    const teamsStatus = async (userId: string): Promise<string | undefined> => {
      const user = await graphGet(server, `/users/${userId}?$select=assignedPlans`);
      return (user.body.assignedPlans as PlanEntry[]).find((plan) => plan.servicePlanId === TEAMS_PLAN_ID)?.capabilityStatus;
    };
    const e5Units = async (): Promise<number> => {
      const skus = await graphGet<{ value: { skuId: string; consumedUnits: number }[] }>(server, '/subscribedSkus');
      return skus.body.value.find((sku) => sku.skuId === SKU_E5.skuId)!.consumedUnits;
    };

    it('records every assignLicense body received, and keeping the group\'s disabled plans keeps Teams off', async () => {
      const mailbox = membersOf((m) => m.drift?.groupFailure === true && !m.user.reprocessRepairs)[0]!;
      expect(mailbox.user.licences).toEqual([{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID], assignedByGroup: noTeams.id }]);
      expect(await teamsStatus(mailbox.user.id)).toBeUndefined();
      const units = await e5Units();
      server.received.clear();

      const body = { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID] }], removeLicenses: [] };
      const response = await graphPost(server, `/users/${mailbox.user.userPrincipalName}/assignLicense`, body);
      expect(response.status).toBe(200);
      expect(server.received.assignLicense).toEqual([{ userId: mailbox.user.id, body }]);

      // One seat for both assignments; the enabled plans are the union: Teams stays off.
      expect(await e5Units()).toBe(units);
      expect(await teamsStatus(mailbox.user.id)).toBeUndefined();
      const user = await graphGet(server, `/users/${mailbox.user.id}?$select=assignedLicenses,licenseAssignmentStates`);
      expect(user.body.assignedLicenses).toEqual([{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID] }]);
      expect((user.body.licenseAssignmentStates as { assignedByGroup: string | null; disabledPlans: string[] }[]).map((state) => [state.assignedByGroup, state.disabledPlans])).toEqual([
        [noTeams.id, [TEAMS_PLAN_ID]],
        [null, [TEAMS_PLAN_ID]],
      ]);
      expect(mailbox.persistedCapabilities).toContain('M365Auditing');
      expect(oracleFindingsFor(groundTruth(tenant), mailbox.user.id).filter((key) => key.startsWith('licence') || key.startsWith('mailitems'))).toEqual([]);
    });

    it('a direct assignment with disabledPlans [] switches Teams on for a "(no Teams)" member (the union)', async () => {
      const mailbox = membersOf((m) => !m.drift?.groupFailure)[0]!;
      expect(await teamsStatus(mailbox.user.id)).toBeUndefined();
      const units = await e5Units();
      const body = { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [] }], removeLicenses: [] };
      expect((await graphPost(server, `/users/${mailbox.user.id}/assignLicense`, body)).status).toBe(200);
      expect(server.received.assignLicense.at(-1)).toEqual({ userId: mailbox.user.id, body });
      expect(await teamsStatus(mailbox.user.id)).toBe('Enabled');
      expect(await e5Units()).toBe(units);
      const user = await graphGet(server, `/users/${mailbox.user.id}?$select=assignedLicenses`);
      expect(user.body.assignedLicenses).toEqual([{ skuId: SKU_E5.skuId, disabledPlans: [] }]);
      const details = await graphGet<{ value: { servicePlans: { servicePlanId: string; provisioningStatus: string }[] }[] }>(server, `/users/${mailbox.user.id}/licenseDetails`);
      expect(details.body.value[0]?.servicePlans.find((plan) => plan.servicePlanId === TEAMS_PLAN_ID)?.provisioningStatus).toBe('Success');
    });

    it('records bodies of refused requests too (raw text when not JSON)', async () => {
      const user = tenant.users.find((u) => u.usageLocation === null && u.licences.length > 0)!;
      server.received.clear();
      const body = { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [] }], removeLicenses: [] };
      expect((await graphPost(server, `/users/${user.id}/assignLicense`, body)).status).toBe(400);
      const raw = await fetch(`${server.baseUrl}/v1.0/users/${user.id}/assignLicense`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.issueToken('https://graph.microsoft.com')}`, 'content-type': 'application/json' },
        body: 'not json',
      });
      expect(raw.status).toBe(400);
      await raw.text();
      expect(server.received.assignLicense).toEqual([{ userId: user.id, body }, { userId: user.id, body: 'not json' }]);
    });
  });

  describe('reprocessLicenseAssignment', () => {
    const failures = (): SimMailbox[] => tenant.mailboxes.filter((m) => m.drift?.groupFailure);

    it('answers 200 with the user and needs no body', async () => {
      const user = tenant.users.find((u) => !u.groupProvisioningFailed && u.licences.length > 0)!;
      const response = await fetch(`${server.baseUrl}/v1.0/users/${user.id}/reprocessLicenseAssignment`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.issueToken('https://graph.microsoft.com/.default')}` },
      });
      const page = await readJson(response);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ '@odata.context': `${server.baseUrl}/v1.0/$metadata#users/$entity`, id: user.id, userPrincipalName: user.userPrincipalName });
      expect(server.received.reprocessLicenseAssignment.at(-1)).toEqual({ userId: user.id });
    });

    it('checks the token audience, the method and the user as other Graph calls do', async () => {
      const user = tenant.users[0]!;
      const wrongAudience = await fetch(`${server.baseUrl}/v1.0/users/${user.id}/reprocessLicenseAssignment`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.issueToken(EXCHANGE_RESOURCE)}` },
      });
      expect(wrongAudience.status).toBe(401);
      expect(((await wrongAudience.json()) as { error: { code: string } }).error.code).toBe('InvalidAuthenticationToken');
      expect((await graphGet(server, `/users/${user.id}/reprocessLicenseAssignment`)).status).toBe(405);
      expect((await graphPost(server, '/users/00000000-0000-4000-8000-000000000000/reprocessLicenseAssignment', {})).status).toBe(404);
    });

    it('clears the group-licensing failure only for the seeded half (SimUser.reprocessRepairs)', async () => {
      const before = failures();
      const repairable = before.filter((m) => m.user.reprocessRepairs);
      const stubborn = before.filter((m) => !m.user.reprocessRepairs);
      expect(repairable.length).toBeGreaterThan(3);
      expect(stubborn.length).toBeGreaterThan(3);
      for (const mailbox of [...repairable, ...stubborn]) {
        const plans = mailbox.user.licences;
        const response = await graphPost(server, `/users/${mailbox.user.id}/reprocessLicenseAssignment`, undefined);
        expect(response.status).toBe(200);
        expect(mailbox.user.licences).toBe(plans); // it changes no plan
      }
      for (const mailbox of repairable) {
        expect(mailbox.persistedCapabilities).toContain('M365Auditing');
        expect(oracleFindingsFor(groundTruth(tenant), mailbox.user.id)).not.toContain('licence-inherited-blocks-mia');
        if (mailbox.defaultAuditSet.includes('Owner')) expect(mailbox.audit.Owner).toContain(MAIL_ITEMS_ACCESSED);
      }
      for (const mailbox of stubborn) {
        expect(oracleFindingsFor(groundTruth(tenant), mailbox.user.id)).toContain('licence-inherited-blocks-mia');
        const refused = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditOwner: { '@odata.type': HASHTABLE, Add: [MAIL_ITEMS_ACCESSED] } });
        expect(refused.status).toBe(400);
      }
    });
  });

  describe('licensing groups', () => {
    it('toggling the plan off and on in a group repairs its members\' group-licensing failures, and keeps its disabled plans', async () => {
      const [e5, noTeams] = tenant.groups.filter((g) => g.licences.some((licence) => licence.skuId === SKU_E5.skuId)) as [typeof tenant.groups[number], typeof tenant.groups[number]];
      const failingIn = (group: typeof e5): number => [...group.members].filter((index) => tenant.users[index]!.groupProvisioningFailed).length;
      expect(failingIn(e5)).toBeGreaterThan(0);
      expect(failingIn(noTeams)).toBeGreaterThan(0);

      const off = await graphPost(server, `/groups/${e5.id}/assignLicense`, { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [ADVANCED_AUDITING_PLAN_ID] }], removeLicenses: [] });
      expect(off.status).toBe(202);
      const on = await graphPost(server, `/groups/${e5.id}/assignLicense`, { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [] }], removeLicenses: [] });
      expect(on.status).toBe(202);
      expect(failingIn(e5)).toBe(0);
      expect(failingIn(noTeams)).toBeGreaterThan(0);
      for (const index of e5.members) expect(tenant.mailboxes[index]?.persistedCapabilities).toContain('M365Auditing');

      await graphPost(server, `/groups/${noTeams.id}/assignLicense`, { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID, ADVANCED_AUDITING_PLAN_ID] }], removeLicenses: [] });
      await graphPost(server, `/groups/${noTeams.id}/assignLicense`, { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID] }], removeLicenses: [] });
      expect(failingIn(noTeams)).toBe(0);
      expect(groundTruth(tenant).some((finding) => finding.ruleId === 'licence-inherited-blocks-mia')).toBe(false);
      expect(server.received.groupAssignLicense.map((call) => call.groupId)).toEqual([e5.id, e5.id, noTeams.id, noTeams.id]);
      const group = await graphGet(server, `/groups/${noTeams.id}`);
      expect(group.body.assignedLicenses).toEqual([{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID] }]);
    });
  });
});
