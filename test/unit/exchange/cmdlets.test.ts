import { ValidationError } from '../../../shared/errors';
import {
  ExchangeClient,
  ExchangeRecordError,
  MAILBOX_PROPERTIES,
  buildSetMailboxAuditParameters,
  enableUnifiedAuditLogIngestion,
  getBypassAssociation,
  getMailbox,
  getOrganizationConfig,
  getUnifiedAuditLogIngestion,
  setBypassAssociation,
  setMailboxAudit,
  setOrganizationAuditDisabled,
  streamBypassAssociations,
  streamMailboxes,
} from '../../../shared/exchange';
import { type Handler, type LocalServer, type RecordedRequest, fakeCredential, rejectionOf, sendJson, startServer } from '../../support/local-server';
import { TENANT } from '../../support/fixtures/tenant';

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function clientFor(handler: Handler): Promise<{ client: ExchangeClient; server: LocalServer }> {
  server = await startServer(handler);
  const client = new ExchangeClient({
    baseUrl: server.url,
    tenantId: TENANT,
    credential: fakeCredential(),
    scope: 'https://outlook.office365.com/.default',
    maxConcurrency: 2,
    sleep: async () => undefined,
  });
  return { client, server };
}

function cmdletInput(request: RecordedRequest | undefined): { CmdletName: string; Parameters: Record<string, unknown> } {
  return (JSON.parse(request?.body ?? '{}') as { CmdletInput: { CmdletName: string; Parameters: Record<string, unknown> } }).CmdletInput;
}

function mailbox(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ExternalDirectoryObjectId: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
    Guid: `10000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
    UserPrincipalName: `user${n}@contoso.com`,
    PrimarySmtpAddress: `user${n}@contoso.com`,
    RecipientTypeDetails: 'UserMailbox',
    AuditEnabled: true,
    AuditLogAgeLimit: 'P90D',
    AuditOwner: ['MailItemsAccessed'],
    AuditDelegate: [],
    AuditAdmin: null,
    DefaultAuditSet: ['Delegate', 'Admin'],
    PersistedCapabilities: [],
    ...overrides,
  };
}

const NOT_FOUND = {
  error: {
    code: 'NotFound',
    message: 'Error executing cmdlet',
    details: [
      {
        message:
          "ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'nobody' couldn't be found on 'DC01'.",
      },
    ],
  },
};

describe('streamMailboxes', () => {
  it('asks Get-Mailbox for every mailbox of the given types with exactly the needed properties, across pages', async () => {
    const { client, server: srv } = await clientFor((_req, res, index) =>
      sendJson(res, 200, {
        value: [mailbox(index * 2), mailbox(index * 2 + 1)],
        ...(index === 0 ? { '@odata.nextLink': `${server?.url}/adminapi/beta/${TENANT}/InvokeCommand?$skiptoken=x` } : {}),
      }),
    );
    const upns: string[] = [];
    for await (const snapshot of streamMailboxes(client, { recipientTypeDetails: ['UserMailbox', 'SharedMailbox'] })) {
      upns.push(snapshot.userPrincipalName);
    }
    expect(upns).toEqual(['user0@contoso.com', 'user1@contoso.com', 'user2@contoso.com', 'user3@contoso.com']);
    expect(srv.requests[0]?.url).toBe(
      `/adminapi/beta/${TENANT}/InvokeCommand?$select=ExternalDirectoryObjectId,Guid,UserPrincipalName,PrimarySmtpAddress,RecipientTypeDetails,AuditEnabled,AuditLogAgeLimit,AuditOwner,AuditDelegate,AuditAdmin,DefaultAuditSet,PersistedCapabilities,Name`,
    );
    expect(MAILBOX_PROPERTIES).toHaveLength(13);
    expect(cmdletInput(srv.requests[0])).toEqual({
      CmdletName: 'Get-Mailbox',
      Parameters: { ResultSize: 'Unlimited', RecipientTypeDetails: ['UserMailbox', 'SharedMailbox'] },
    });
    expect(srv.requests[1]?.body).toBe(srv.requests[0]?.body);
  });

  it('omits RecipientTypeDetails when no types are given', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, { value: [] }));
    for await (const _ of streamMailboxes(client, { recipientTypeDetails: [] })) {
      // none
    }
    expect(cmdletInput(srv.requests[0]).Parameters).toEqual({ ResultSize: 'Unlimited' });
  });

  it('stops at a record it cannot read, naming it, after yielding the good ones', async () => {
    const { client } = await clientFor((_req, res) =>
      sendJson(res, 200, { value: [mailbox(1), mailbox(2, { AuditLogAgeLimit: 'forever' }), mailbox(3)] }),
    );
    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const snapshot of streamMailboxes(client, { recipientTypeDetails: ['UserMailbox'] })) seen.push(snapshot.userPrincipalName);
      })(),
    );
    expect(seen).toEqual(['user1@contoso.com']);
    expect(error).toBeInstanceOf(ExchangeRecordError);
    expect((error as Error).message).toMatch(/user2@contoso\.com.*AuditLogAgeLimit/);
  });
});

describe('getMailbox', () => {
  it('reads one mailbox by identity', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, { value: [mailbox(7)] }));
    const snapshot = await getMailbox(client, 'user7@contoso.com');
    expect(snapshot?.userPrincipalName).toBe('user7@contoso.com');
    expect(snapshot?.auditActions.Admin).toEqual([]);
    expect(cmdletInput(srv.requests[0])).toEqual({ CmdletName: 'Get-Mailbox', Parameters: { Identity: 'user7@contoso.com' } });
    expect(srv.requests[0]?.url).toContain('$select=ExternalDirectoryObjectId,');
  });

  it('answers undefined when Exchange says the mailbox does not exist', async () => {
    const { client } = await clientFor((_req, res) => sendJson(res, 404, NOT_FOUND));
    await expect(getMailbox(client, 'nobody')).resolves.toBeUndefined();
  });

  it('does not mistake a bare 404 (wrong URL or tenant) for a missing mailbox', async () => {
    const { client } = await clientFor((_req, res) => sendJson(res, 404, { error: { code: 'NotFound', message: 'Resource not found' } }));
    await expect(getMailbox(client, 'user1')).rejects.toThrow('Resource not found');
  });

  it('refuses an ambiguous identity', async () => {
    const { client } = await clientFor((_req, res) => sendJson(res, 200, { value: [mailbox(1), mailbox(2)] }));
    await expect(getMailbox(client, 'user')).rejects.toThrow(/matched 2 mailboxes/);
  });

  it('refuses an empty identity without calling Exchange', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, { value: [] }));
    await expect(getMailbox(client, '  ')).rejects.toBeInstanceOf(ValidationError);
    expect(srv.requests).toHaveLength(0);
  });
});

describe('bypass associations', () => {
  const association = (identity: string, enabled: boolean | string, guid = `guid-${identity}`) => ({
    Identity: identity,
    Guid: guid,
    AuditBypassEnabled: enabled,
  });

  it('streams every association with ResultSize Unlimited and the three properties', async () => {
    const { client, server: srv } = await clientFor((_req, res) =>
      sendJson(res, 200, { value: [association('svc-a', false), association('svc-b', 'True')] }),
    );
    const all = [];
    for await (const item of streamBypassAssociations(client)) all.push(item);
    expect(all).toEqual([
      { identity: 'svc-a', objectId: 'guid-svc-a', auditBypassEnabled: false },
      { identity: 'svc-b', objectId: 'guid-svc-b', auditBypassEnabled: true },
    ]);
    expect(srv.requests[0]?.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand?$select=Identity,Guid,AuditBypassEnabled`);
    expect(cmdletInput(srv.requests[0])).toEqual({
      CmdletName: 'Get-MailboxAuditBypassAssociation',
      Parameters: { ResultSize: 'Unlimited' },
    });
  });

  it('reads one association by identity', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, { value: [association('svc-a', true)] }));
    await expect(getBypassAssociation(client, 'svc-a')).resolves.toEqual({
      identity: 'svc-a',
      objectId: 'guid-svc-a',
      auditBypassEnabled: true,
    });
    expect(cmdletInput(srv.requests[0]).Parameters).toEqual({ Identity: 'svc-a' });
  });

  it('narrows an "all associations" answer to the one asked for, by Identity or Guid', async () => {
    const everything = { value: [association('svc-a', false), association('svc-b', true, 'B-GUID'), association('svc-c', false)] };
    const { client } = await clientFor((_req, res) => sendJson(res, 200, everything));
    await expect(getBypassAssociation(client, 'SVC-B')).resolves.toMatchObject({ identity: 'svc-b' });
    await expect(getBypassAssociation(client, 'b-guid')).resolves.toMatchObject({ identity: 'svc-b' });
    await expect(getBypassAssociation(client, 'someone-else')).resolves.toBeUndefined();
  });

  it('answers undefined for a not-found error', async () => {
    const { client } = await clientFor((_req, res) => sendJson(res, 400, NOT_FOUND));
    await expect(getBypassAssociation(client, 'nobody')).resolves.toBeUndefined();
  });

  it('sets AuditBypassEnabled and returns the warnings', async () => {
    const { client, server: srv } = await clientFor((_req, res) =>
      sendJson(res, 200, { '@adminapi.warnings': ['No changes were made.'] }),
    );
    await expect(setBypassAssociation(client, 'svc-a', false)).resolves.toEqual({ warnings: ['No changes were made.'] });
    expect(cmdletInput(srv.requests[0])).toEqual({
      CmdletName: 'Set-MailboxAuditBypassAssociation',
      Parameters: { Identity: 'svc-a', AuditBypassEnabled: false },
    });
  });

  it('never sends an empty Identity (Exchange would address every association)', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, {}));
    await expect(setBypassAssociation(client, '', false)).rejects.toBeInstanceOf(ValidationError);
    await expect(getBypassAssociation(client, '')).rejects.toBeInstanceOf(ValidationError);
    expect(srv.requests).toHaveLength(0);
  });
});

describe('organization config', () => {
  const ORGANIZATION = { Identity: 'contoso.onmicrosoft.com', Name: 'contoso', AuditDisabled: false };
  const ADMIN_AUDIT_LOG = {
    UnifiedAuditLogIngestionEnabled: true,
    'UnifiedAuditLogFirstOptInDate@data.type': 'System.DateTime',
    UnifiedAuditLogFirstOptInDate: '2019-03-14T09:21:46.0000000Z',
    Identity: 'Admin Audit Log Settings',
  };

  /** Answers each cmdlet with its own handler (the two reads run concurrently, in no promised order). */
  function byCmdlet(handlers: Record<string, Handler>): Handler {
    return (req, res, index) => {
      const name = cmdletInput(req).CmdletName;
      const handler = handlers[name];
      if (!handler) return sendJson(res, 400, { error: { code: 'BadRequest', message: `unexpected cmdlet ${name}` } });
      return handler(req, res, index);
    };
  }

  const requestFor = (srv: LocalServer, cmdlet: string) => srv.requests.find((request) => cmdletInput(request).CmdletName === cmdlet);

  it('reads Identity and AuditDisabled, and UnifiedAuditLogIngestionEnabled from Get-AdminAuditLogConfig, each with $select', async () => {
    const { client, server: srv } = await clientFor(
      byCmdlet({
        'Get-OrganizationConfig': (_req, res) => sendJson(res, 200, { value: [ORGANIZATION] }),
        'Get-AdminAuditLogConfig': (_req, res) => sendJson(res, 200, { value: [ADMIN_AUDIT_LOG] }),
      }),
    );
    await expect(getOrganizationConfig(client)).resolves.toEqual({
      identity: 'contoso.onmicrosoft.com',
      auditDisabled: false,
      unifiedAuditLogIngestionEnabled: true,
    });
    expect(srv.requests).toHaveLength(2);
    expect(requestFor(srv, 'Get-OrganizationConfig')?.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand?$select=Identity,Name,AuditDisabled`);
    expect(cmdletInput(requestFor(srv, 'Get-OrganizationConfig'))).toEqual({ CmdletName: 'Get-OrganizationConfig', Parameters: {} });
    expect(requestFor(srv, 'Get-AdminAuditLogConfig')?.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand?$select=Identity,UnifiedAuditLogIngestionEnabled`);
    expect(cmdletInput(requestFor(srv, 'Get-AdminAuditLogConfig'))).toEqual({ CmdletName: 'Get-AdminAuditLogConfig', Parameters: {} });
  });

  it('reads ingestion switched off, from a boolean or the string "False"', async () => {
    for (const value of [false, 'False']) {
      const { client } = await clientFor(
        byCmdlet({
          'Get-OrganizationConfig': (_req, res) => sendJson(res, 200, { value: [ORGANIZATION] }),
          'Get-AdminAuditLogConfig': (_req, res) => sendJson(res, 200, { value: [{ ...ADMIN_AUDIT_LOG, UnifiedAuditLogIngestionEnabled: value }] }),
        }),
      );
      await expect(getOrganizationConfig(client)).resolves.toMatchObject({ unifiedAuditLogIngestionEnabled: false });
      await server?.close();
      server = undefined;
    }
  });

  it('reports ingestion as unknown, with the reason, when Get-AdminAuditLogConfig is refused (the app lacks the Audit Logs role)', async () => {
    const { client } = await clientFor(
      byCmdlet({
        'Get-OrganizationConfig': (_req, res) => sendJson(res, 200, { value: [ORGANIZATION] }),
        'Get-AdminAuditLogConfig': (_req, res) =>
          sendJson(res, 403, { error: { code: 'Forbidden', message: "The role assigned to application isn't supported in this scenario" } }),
      }),
    );
    const snapshot = await getOrganizationConfig(client);
    expect(snapshot).toMatchObject({ identity: 'contoso.onmicrosoft.com', auditDisabled: false, unifiedAuditLogIngestionEnabled: null });
    expect(snapshot.ingestionReadError).toMatch(/Get-AdminAuditLogConfig/);
    expect(snapshot.ingestionReadError).toMatch(/403/);
  });

  it('reports ingestion as unknown when Get-AdminAuditLogConfig answers no record, or one it cannot read', async () => {
    for (const [answer, reason] of [
      [{ value: [] }, /Get-AdminAuditLogConfig returned 0 records/],
      [{ value: [{ Identity: 'Admin Audit Log Settings' }] }, /UnifiedAuditLogIngestionEnabled/],
    ] as const) {
      const { client } = await clientFor(
        byCmdlet({
          'Get-OrganizationConfig': (_req, res) => sendJson(res, 200, { value: [ORGANIZATION] }),
          'Get-AdminAuditLogConfig': (_req, res) => sendJson(res, 200, answer),
        }),
      );
      const snapshot = await getOrganizationConfig(client);
      expect(snapshot.unifiedAuditLogIngestionEnabled).toBeNull();
      expect(snapshot.ingestionReadError).toMatch(reason);
      await server?.close();
      server = undefined;
    }
  });

  it('never reports an ingestion read error when ingestion was read', async () => {
    const { client } = await clientFor(
      byCmdlet({
        'Get-OrganizationConfig': (_req, res) => sendJson(res, 200, { value: [ORGANIZATION] }),
        'Get-AdminAuditLogConfig': (_req, res) => sendJson(res, 200, { value: [ADMIN_AUDIT_LOG] }),
      }),
    );
    expect(await getOrganizationConfig(client)).not.toHaveProperty('ingestionReadError');
  });

  it('fails when Get-OrganizationConfig fails, whatever Get-AdminAuditLogConfig said', async () => {
    const { client } = await clientFor(
      byCmdlet({
        'Get-OrganizationConfig': (_req, res) => sendJson(res, 400, { error: { code: 'BadRequest', message: 'Error executing cmdlet' } }),
        'Get-AdminAuditLogConfig': (_req, res) => sendJson(res, 200, { value: [ADMIN_AUDIT_LOG] }),
      }),
    );
    await expect(getOrganizationConfig(client)).rejects.toThrow(/Get-OrganizationConfig/);
  });

  it('refuses an answer without exactly one organization', async () => {
    const { client } = await clientFor(
      byCmdlet({
        'Get-OrganizationConfig': (_req, res) => sendJson(res, 200, { value: [] }),
        'Get-AdminAuditLogConfig': (_req, res) => sendJson(res, 200, { value: [ADMIN_AUDIT_LOG] }),
      }),
    );
    await expect(getOrganizationConfig(client)).rejects.toThrow(/returned 0 records/);
  });

  it('reads ingestion on its own', async () => {
    const { client } = await clientFor((_req, res) => sendJson(res, 200, { value: [{ ...ADMIN_AUDIT_LOG, UnifiedAuditLogIngestionEnabled: 'True' }] }));
    await expect(getUnifiedAuditLogIngestion(client)).resolves.toBe(true);
  });

  it('sets AuditDisabled', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, {}));
    await expect(setOrganizationAuditDisabled(client, false)).resolves.toEqual({ warnings: [] });
    expect(cmdletInput(srv.requests[0])).toEqual({ CmdletName: 'Set-OrganizationConfig', Parameters: { AuditDisabled: false } });
  });

  it('switches ingestion on with Set-AdminAuditLogConfig, its only parameter', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, {}));
    await expect(enableUnifiedAuditLogIngestion(client)).resolves.toEqual({ warnings: [] });
    expect(cmdletInput(srv.requests[0])).toEqual({ CmdletName: 'Set-AdminAuditLogConfig', Parameters: { UnifiedAuditLogIngestionEnabled: true } });
  });
});

describe('setMailboxAudit', () => {
  it('sends Add hashtables tagged #Exchange.GenericHashTable and the TimeSpan as d.hh:mm:ss', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, {}));
    await setMailboxAudit(client, '10000000-0000-0000-0000-000000000001', {
      auditEnabled: true,
      auditLogAgeLimitDays: 180,
      addActions: { Owner: ['MailItemsAccessed', 'SearchQueryInitiated'], Admin: ['MailItemsAccessed'] },
    });
    // Compared as text: this is the exact wire form.
    expect(srv.requests[0]?.body).toBe(
      JSON.stringify({
        CmdletInput: {
          CmdletName: 'Set-Mailbox',
          Parameters: {
            Identity: '10000000-0000-0000-0000-000000000001',
            AuditEnabled: true,
            AuditLogAgeLimit: '180.00:00:00',
            AuditOwner: { '@odata.type': '#Exchange.GenericHashTable', Add: ['MailItemsAccessed', 'SearchQueryInitiated'] },
            AuditAdmin: { '@odata.type': '#Exchange.GenericHashTable', Add: ['MailItemsAccessed'] },
          },
        },
      }),
    );
    expect(srv.requests[0]?.headers.prefer).toBeUndefined();
  });

  it('sends DefaultAuditSet as a list', async () => {
    const { client, server: srv } = await clientFor((_req, res) => sendJson(res, 200, {}));
    await setMailboxAudit(client, 'user1', { defaultAuditSet: ['Owner', 'Delegate'] });
    expect(cmdletInput(srv.requests[0]).Parameters).toEqual({ Identity: 'user1', DefaultAuditSet: ['Owner', 'Delegate'] });
  });

  it("surfaces Exchange's refusal (e.g. no licence for MailItemsAccessed)", async () => {
    const { client } = await clientFor((_req, res) =>
      sendJson(res, 400, {
        error: {
          code: 'BadRequest',
          message: 'Error',
          details: [
            {
              message:
                '|Microsoft.Exchange.Management.Tasks.RecipientTaskException|Auditing of MailItemsAccessed event is only available for users with appropriate license. Please visit the documentation to know more about this.',
            },
          ],
        },
      }),
    );
    await expect(setMailboxAudit(client, 'user1', { addActions: { Owner: ['MailItemsAccessed'] } })).rejects.toMatchObject({
      name: 'ExchangeCommandError',
      cmdlet: 'Set-Mailbox',
      exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException',
      exchangeMessage: expect.stringContaining('only available for users with appropriate license'),
    });
  });
});

describe('buildSetMailboxAuditParameters', () => {
  it('leaves out what is not asked for, and logon types with nothing to add', () => {
    expect(buildSetMailboxAuditParameters('m', { auditEnabled: false, addActions: { Delegate: [] } })).toEqual({
      Identity: 'm',
      AuditEnabled: false,
    });
  });

  it('writes 0 days (purge) explicitly', () => {
    expect(buildSetMailboxAuditParameters('m', { auditLogAgeLimitDays: 0 })).toEqual({ Identity: 'm', AuditLogAgeLimit: '0.00:00:00' });
  });

  it('trims and de-duplicates action names', () => {
    expect(buildSetMailboxAuditParameters('m', { addActions: { Owner: [' Send', 'Send', 'MailItemsAccessed'] } }).AuditOwner).toEqual({
      '@odata.type': '#Exchange.GenericHashTable',
      Add: ['Send', 'MailItemsAccessed'],
    });
  });

  it.each([
    ['an empty change', {}],
    ['a fractional number of days', { auditLogAgeLimitDays: 1.5 }],
    ['a negative number of days', { auditLogAgeLimitDays: -1 }],
    ['an action name that is not a name', { addActions: { Owner: ['Send, HardDelete'] } }],
    ['an empty DefaultAuditSet', { defaultAuditSet: [] }],
  ])('refuses %s', (_label, change) => {
    expect(() => buildSetMailboxAuditParameters('m', change)).toThrow(ValidationError);
  });

  it('refuses an empty identity', () => {
    expect(() => buildSetMailboxAuditParameters('', { auditEnabled: true })).toThrow(ValidationError);
  });
});
