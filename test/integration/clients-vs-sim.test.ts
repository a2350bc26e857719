import { ExchangeClient, ExchangeInvokeError, enableUnifiedAuditLogIngestion, getMailbox, getOrganizationConfig, setMailboxAudit } from '../../shared/exchange';
import { createGraphClient, streamLicensedUsers } from '../../shared/graph';
import { ServiceError } from '../../shared/errors';
import { generateTenant, startSimulatedTenant, type SimulatedTenantServer } from '../../sim';
import type { AccessToken, TokenCredential } from '@azure/identity';

/** Hands out a token for a fixed resource whatever scope is asked: the "wrong audience" mistake. */
function tokenFor(sim: SimulatedTenantServer, resource: string): TokenCredential {
  return { getToken: async (): Promise<AccessToken> => ({ token: sim.issueToken(resource), expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

describe('the production clients against the simulated tenant', () => {
  let sim: SimulatedTenantServer;
  beforeAll(async () => {
    sim = await startSimulatedTenant({ tenant: generateTenant({ seed: 11, mailboxes: 120 }) });
  });
  afterAll(() => sim.stop());

  const exchange = (credential: TokenCredential) =>
    new ExchangeClient({
      baseUrl: sim.baseUrl,
      tenantId: sim.tenantId,
      credential,
      scope: 'https://outlook.office365.com/.default',
      maxConcurrency: 2,
      retry: { maxRetries: 2, baseDelayMs: 1 },
    });

  it('Exchange refuses a Graph token, and the client says so without retrying or printing the token', async () => {
    const graphToken = sim.issueToken('https://graph.microsoft.com');
    const client = exchange({ getToken: async () => ({ token: graphToken, expiresOnTimestamp: Date.now() + 3_600_000 }) });
    const before = sim.stats.snapshot().calls.exchange;
    const error = await getMailbox(client, sim.tenant.mailboxes[0]!.primarySmtpAddress).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).statusCode).toBe(401);
    expect((error as Error).message).toContain('https://outlook.office365.com/.default');
    expect((error as Error).message).not.toContain(graphToken);
    expect(sim.stats.snapshot().calls.exchange - before).toBe(1);
  });

  it('Graph refuses an Exchange token', async () => {
    const graph = createGraphClient({ baseUrl: sim.baseUrl, credential: tokenFor(sim, 'https://outlook.office365.com'), scope: 'https://graph.microsoft.com/.default' });
    const error = await (async () => {
      for await (const _ of streamLicensedUsers(graph)) return undefined;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).statusCode).toBe(401);
    expect((error as ServiceError).code).toBe('InvalidAuthenticationToken');
  });

  it('an unknown cmdlet parameter fails with Exchange\'s own message', async () => {
    const client = exchange(tokenFor(sim, 'https://outlook.office365.com'));
    const error = await client
      .invoke('Set-Mailbox', { Identity: sim.tenant.mailboxes[0]!.primarySmtpAddress, AuditEnabledd: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeInvokeError);
    expect((error as ExchangeInvokeError).exchangeMessage).toBe("A parameter cannot be found that matches parameter name 'AuditEnabledd'.");
    expect((error as ExchangeInvokeError).transient).toBe(false);
  });

  it('adding MailItemsAccessed to an E3 or unlicensed mailbox is accepted (Audit (Standard) since 2024) and reads back', async () => {
    const client = exchange(tokenFor(sim, 'https://outlook.office365.com'));
    const withoutPlan = sim.tenant.mailboxes.find(
      (mailbox) =>
        !mailbox.persistedCapabilities.includes('M365Auditing') &&
        !mailbox.drift?.groupFailure &&
        ['UserMailbox', 'SharedMailbox'].includes(mailbox.recipientTypeDetails),
    )!;
    expect(withoutPlan).toBeDefined();
    await expect(setMailboxAudit(client, withoutPlan.guid, { addActions: { Owner: ['MailItemsAccessed'] } })).resolves.toBeDefined();
    expect((await getMailbox(client, withoutPlan.guid))?.auditActions.Owner).toContain('MailItemsAccessed');
  });

  it('adding MailItemsAccessed where Exchange has not applied a group licence fails permanently with the licence message', async () => {
    const client = exchange(tokenFor(sim, 'https://outlook.office365.com'));
    const failed = sim.tenant.mailboxes.find((mailbox) => mailbox.drift?.groupFailure);
    expect(failed).toBeDefined();
    const error = await setMailboxAudit(client, failed!.guid, { addActions: { Owner: ['MailItemsAccessed'] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeInvokeError);
    expect((error as ExchangeInvokeError).exchangeMessage).toContain('Auditing of MailItemsAccessed event is only available for users with appropriate license');
    expect((error as ExchangeInvokeError).transient).toBe(false);
  });

  it('MessageBind is refused, with Exchange pointing to MailItemsAccessed', async () => {
    const client = exchange(tokenFor(sim, 'https://outlook.office365.com'));
    const error = await setMailboxAudit(client, sim.tenant.mailboxes[0]!.guid, { addActions: { Admin: ['MessageBind'] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeInvokeError);
    expect((error as ExchangeInvokeError).exchangeMessage).toContain('Use MailItemsAccessed audit operation type instead');
    expect((error as ExchangeInvokeError).transient).toBe(false);
  });

  it('reads AuditDisabled and UnifiedAuditLogIngestionEnabled, and switches ingestion back on', async () => {
    const client = exchange(tokenFor(sim, 'https://outlook.office365.com'));
    await expect(getOrganizationConfig(client)).resolves.toEqual({
      identity: sim.tenant.organization.identity,
      auditDisabled: false,
      unifiedAuditLogIngestionEnabled: true,
    });

    const dark = await startSimulatedTenant({ tenant: generateTenant({ seed: 12, mailboxes: 10, ingestionDisabled: true }) });
    try {
      const darkClient = new ExchangeClient({
        baseUrl: dark.baseUrl,
        tenantId: dark.tenantId,
        credential: tokenFor(dark, 'https://outlook.office365.com'),
        scope: 'https://outlook.office365.com/.default',
        maxConcurrency: 2,
        retry: { maxRetries: 2, baseDelayMs: 1 },
      });
      await expect(getOrganizationConfig(darkClient)).resolves.toMatchObject({ unifiedAuditLogIngestionEnabled: false });
      await enableUnifiedAuditLogIngestion(darkClient);
      const after = await getOrganizationConfig(darkClient);
      expect(after).toMatchObject({ unifiedAuditLogIngestionEnabled: true });
      expect(after).not.toHaveProperty('ingestionReadError');
    } finally {
      await dark.stop();
    }
  });
});
