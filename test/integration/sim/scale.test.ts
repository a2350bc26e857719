import { ADVANCED_AUDITING_PLAN_ID, generateTenant, groundTruth, groundTruthCoverage, startSimulatedTenant, type SimulatedTenant, type SimulatedTenantServer } from '../../../sim';
import { graphToken, invoke } from '../../support/sim-api';

/**
 * The benchmark pages through 100,000 mailboxes (Graph $top=999, Exchange maxpagesize 1000). These
 * tests check that a tenant of that size pages completely and consistently; how fast it does so is
 * `npm run bench`'s business, not a test's.
 */
describe('a 100,000-mailbox tenant', () => {
  let tenant: SimulatedTenant;
  let server: SimulatedTenantServer;
  beforeAll(async () => {
    tenant = generateTenant({ seed: 1, mailboxes: 100_000 });
    server = await startSimulatedTenant({ tenant });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('is generated compactly', () => {
    expect(tenant.mailboxes).toHaveLength(100_000);
    const clean = tenant.mailboxes.filter((m) => m.drift === null);
    expect(clean.length).toBeGreaterThan(70_000);
    // Clean mailboxes share their lists instead of holding copies (2026: one managed list for every licence).
    expect(new Set(clean.filter((m) => m.recipientTypeDetails === 'UserMailbox').map((m) => m.audit.Owner)).size).toBe(1);
    expect(tenant.mailboxlessAssociations).toHaveLength(200);
    expect(tenant.associations).toHaveLength(100_200);
  });

  it('answers the oracle for every mailbox, with coverage sharing its reason lists', () => {
    expect(groundTruth(tenant).length).toBeGreaterThan(50_000);
    const coverage = groundTruthCoverage(tenant);
    expect(coverage).toHaveLength(tenant.mailboxes.filter((m) => m.recipientTypeDetails === 'UserMailbox' || m.recipientTypeDetails === 'SharedMailbox').length);
    expect(new Set(coverage.map((entry) => entry.reasons)).size).toBeLessThan(500);
  });

  it('serves every licensed user in pages of 999', async () => {
    const filter = encodeURIComponent(`assignedPlans/any(a:a/servicePlanId eq ${ADVANCED_AUDITING_PLAN_ID} and a/capabilityStatus eq 'Enabled')`);
    let url: string | undefined = `${server.baseUrl}/v1.0/users?$filter=${filter}&$count=true&$top=999&$select=id,userPrincipalName,assignedPlans,licenseAssignmentStates`;
    let users = 0;
    let pages = 0;
    let count = 0;
    while (url) {
      const response: Response = await fetch(url, { headers: { authorization: `Bearer ${graphToken(server)}`, ConsistencyLevel: 'eventual' } });
      const body = (await response.json()) as { value: unknown[]; '@odata.nextLink'?: string; '@odata.count': number };
      users += body.value.length;
      count = body['@odata.count'];
      pages++;
      url = body['@odata.nextLink'];
    }
    expect(users).toBe(count);
    expect(pages).toBe(Math.ceil(count / 999));
  });

  it('serves every in-scope mailbox in pages of 1000', async () => {
    const parameters = { ResultSize: 'Unlimited', RecipientTypeDetails: ['UserMailbox', 'SharedMailbox'] };
    const select = ['Guid', 'ExternalDirectoryObjectId', 'UserPrincipalName', 'RecipientTypeDetails', 'AuditEnabled', 'AuditLogAgeLimit', 'AuditOwner', 'AuditDelegate', 'AuditAdmin', 'DefaultAuditSet', 'PersistedCapabilities'];
    let url: string | undefined;
    let mailboxes = 0;
    let pages = 0;
    do {
      const page = await invoke(server, 'Get-Mailbox', parameters, { select, pageSize: 1000, url });
      pages++;
      expect(page.status).toBe(200);
      mailboxes += page.body.value?.length ?? 0;
      url = page.body['@odata.nextLink'];
    } while (url);
    const inScope = tenant.mailboxes.filter((m) => m.recipientTypeDetails === 'UserMailbox' || m.recipientTypeDetails === 'SharedMailbox').length;
    expect(mailboxes).toBe(inScope);
    expect(pages).toBe(Math.ceil(inScope / 1000));
  });
});
