import { MAIL_ITEMS_ACCESSED } from '../../shared/domain/audit';
import { generateTenant, groundTruth, MIA_LICENCE_ERROR, SKU_E3, SKU_E5, startSimulatedTenant, type SimMailbox, type SimulatedTenantServer } from '../../sim';
import { exchangeErrorText, invoke, invokeAll, invokeUrl } from './helpers';

const HASHTABLE = '#Exchange.GenericHashTable';

const findingsFor = (server: SimulatedTenantServer, objectId: string): string[] =>
  groundTruth(server.tenant)
    .filter((finding) => finding.objectId === objectId)
    .map((finding) => (finding.logonType ? `${finding.ruleId}/${finding.logonType}` : finding.ruleId))
    .sort();

describe('simulated Exchange InvokeCommand', () => {
  const tenant = generateTenant({ seed: 41, mailboxes: 1500 });
  let server: SimulatedTenantServer;
  beforeAll(async () => {
    server = await startSimulatedTenant({ tenant });
  });
  afterAll(async () => {
    await server.stop();
  });

  /** Clean mailboxes handed out one per test, so tests do not step on each other. */
  const cleanE5 = tenant.mailboxes.filter(
    (m) => m.drift === null && m.recipientTypeDetails === 'UserMailbox' && m.user.licences.length === 1 && m.user.licences[0]?.skuId === SKU_E5.skuId && !m.association.auditBypassEnabled,
  );
  const cleanE3 = tenant.mailboxes.filter((m) => m.drift === null && m.recipientTypeDetails === 'UserMailbox' && m.user.licences[0]?.skuId === SKU_E3.skuId);
  const take = (pool: SimMailbox[]): SimMailbox => {
    const mailbox = pool.shift();
    if (!mailbox) throw new Error('The test tenant ran out of clean mailboxes.');
    return mailbox;
  };

  describe('Get-Mailbox and paging', () => {
    it('stops at 1000 without ResultSize, with Exchange\'s warning on the last page', async () => {
      const { records, pages, warnings } = await invokeAll(server, 'Get-Mailbox', {}, { pageSize: 400, select: ['Guid'] });
      expect(records).toHaveLength(1000);
      expect(pages).toBe(3);
      expect(warnings).toEqual([expect.stringContaining('By default, only the first 1000 items are returned')]);
    });

    it('pages with the same body through every user and shared mailbox', async () => {
      const expected = tenant.mailboxes.filter((m) => m.recipientTypeDetails === 'UserMailbox' || m.recipientTypeDetails === 'SharedMailbox');
      const { records, pages, warnings } = await invokeAll(
        server,
        'Get-Mailbox',
        { ResultSize: 'Unlimited', RecipientTypeDetails: ['UserMailbox', 'SharedMailbox'] },
        { pageSize: 250, select: ['ExternalDirectoryObjectId', 'RecipientTypeDetails'] },
      );
      expect(records.map((record) => record.ExternalDirectoryObjectId)).toEqual(expected.map((m) => m.user.id));
      expect(pages).toBe(Math.ceil(expected.length / 250));
      expect(warnings).toEqual([]);
    });

    it('accepts RecipientTypeDetails as a comma-separated string and caps maxpagesize at 1000', async () => {
      const first = await invoke(server, 'Get-Mailbox', { ResultSize: 'Unlimited', RecipientTypeDetails: 'RoomMailbox,EquipmentMailbox' }, { pageSize: 5000, select: ['RecipientTypeDetails'] });
      expect(first.status).toBe(200);
      expect(first.headers.get('preference-applied')).toBe('odata.maxpagesize=1000');
      expect(new Set(first.body.value?.map((record) => record.RecipientTypeDetails))).toEqual(new Set(['RoomMailbox', 'EquipmentMailbox']));
    });

    it('uses 100 records per page without a Prefer header', async () => {
      const page = await invoke(server, 'Get-Mailbox', { ResultSize: 'Unlimited' }, { select: ['Guid'] });
      expect(page.body.value).toHaveLength(100);
      expect(page.body['@odata.nextLink']).toMatch(new RegExp(`^${server.baseUrl}/adminapi/beta/${server.tenantId}/InvokeCommand\\?\\$select=Guid&\\$skiptoken=`));
      expect(page.body['@odata.context']).toBe(`${server.baseUrl}/adminapi/beta/${server.tenantId}/$metadata#Collection(Exchange.GenericHashTable)`);
    });

    it('refuses a next page requested with another body', async () => {
      const first = await invoke(server, 'Get-Mailbox', { ResultSize: 'Unlimited' }, { pageSize: 10 });
      const next = await invoke(server, 'Get-Mailbox', { ResultSize: 'Unlimited', RecipientTypeDetails: 'UserMailbox' }, { url: first.body['@odata.nextLink'] });
      expect(next.status).toBe(400);
      expect(exchangeErrorText(next.body)).toContain('same body');
    });

    it('returns only the $select-ed properties, with collection annotations', async () => {
      const mailbox = tenant.mailboxes[0]!;
      const page = await invoke(server, 'Get-Mailbox', { Identity: mailbox.guid }, { select: ['Guid', 'AuditOwner', 'AuditLogAgeLimit'] });
      expect(page.body.value).toEqual([
        { Guid: mailbox.guid, 'AuditOwner@odata.type': '#Collection(String)', AuditOwner: [...mailbox.audit.Owner], AuditLogAgeLimit: expect.stringMatching(/^\d+\.00:00:00$/) },
      ]);
    });

    it('returns every audit property of a mailbox without $select', async () => {
      const mailbox = tenant.mailboxes[1]!;
      const record = (await invoke(server, 'Get-Mailbox', { Identity: mailbox.guid })).body.value?.[0];
      expect(record).toMatchObject({
        Guid: mailbox.guid,
        ExternalDirectoryObjectId: mailbox.user.id,
        UserPrincipalName: mailbox.user.userPrincipalName,
        PrimarySmtpAddress: mailbox.primarySmtpAddress,
        RecipientTypeDetails: mailbox.recipientTypeDetails,
        AuditEnabled: mailbox.auditEnabled,
        AuditAdmin: expect.any(Array),
        AuditDelegate: expect.any(Array),
        DefaultAuditSet: expect.any(Array),
        PersistedCapabilities: expect.any(Array),
        DisplayName: mailbox.displayName,
        Alias: mailbox.alias,
      });
    });

    it.each(['guid', 'upn', 'smtp', 'objectId', 'alias'])('resolves Identity given as %s', async (kind) => {
      const mailbox = tenant.mailboxes[2]!;
      const identity = { guid: mailbox.guid, upn: mailbox.user.userPrincipalName, smtp: mailbox.primarySmtpAddress.toUpperCase(), objectId: mailbox.user.id, alias: mailbox.alias }[kind]!;
      const page = await invoke(server, 'Get-Mailbox', { Identity: identity }, { select: ['Guid'] });
      expect(page.body.value).toEqual([{ Guid: mailbox.guid }]);
    });

    it('reports an unknown Identity as ManagementObjectNotFoundException', async () => {
      const page = await invoke(server, 'Get-Mailbox', { Identity: 'nobody@nowhere.example' });
      expect(page.status).toBe(400);
      expect(page.body.error?.details?.[0]?.message).toMatch(/^Ex[0-9A-F]{6}\|Microsoft\.Exchange\.Configuration\.Tasks\.ManagementObjectNotFoundException\|.*couldn't be found/);
      expect(page.body.error?.innererror?.internalException?.message).toContain("couldn't be found");
      expect(page.headers.get('x-exceptiontype')).toBe('ManagementObjectNotFoundException');
      expect(page.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('filters with OPATH: capabilities, booleans and -and', async () => {
      const { records } = await invokeAll(
        server,
        'Get-Mailbox',
        { ResultSize: 'Unlimited', Filter: "RecipientTypeDetails -eq 'UserMailbox' -and PersistedCapabilities -ne 'M365Auditing' -and AuditEnabled -eq 'True'" },
        { pageSize: 1000, select: ['Guid'] },
      );
      const expected = tenant.mailboxes.filter((m) => m.recipientTypeDetails === 'UserMailbox' && !m.persistedCapabilities.includes('M365Auditing') && m.auditEnabled);
      expect(records.map((record) => record.Guid)).toEqual(expected.map((m) => m.guid));
      const disabled = await invokeAll(server, 'Get-Mailbox', { ResultSize: 'Unlimited', Filter: 'AuditEnabled -eq $false' }, { pageSize: 1000, select: ['Guid'] });
      expect(disabled.records).toHaveLength(tenant.mailboxes.filter((m) => !m.auditEnabled).length);
    });

    it('refuses a filter it cannot read', async () => {
      const bad = await invoke(server, 'Get-Mailbox', { Filter: "ShoeSize -eq '42'" });
      expect(bad.status).toBe(400);
      expect(exchangeErrorText(bad.body)).toContain("Cannot bind parameter 'Filter'");
    });

    it('accepts the org name as the tenant segment and refuses an unknown tenant', async () => {
      const byName = await invoke(server, 'Get-OrganizationConfig', {}, { tenantSegment: tenant.domain });
      expect(byName.body.value?.[0]).toMatchObject({ Identity: tenant.domain, AuditDisabled: false });
      const unknown = await invoke(server, 'Get-OrganizationConfig', {}, { tenantSegment: 'fabrikam.onmicrosoft.com' });
      expect(unknown.status).toBe(404);
    });
  });

  describe('parameter binding', () => {
    it('refuses an unknown parameter as PowerShell does', async () => {
      const page = await invoke(server, 'Get-Mailbox', { Identity: tenant.mailboxes[0]!.guid, PropertySets: 'Audit' });
      expect(page.status).toBe(400);
      expect(page.body.error?.details?.[0]?.message).toMatch(
        /^[^|]+\|System\.Management\.Automation\.ParameterBindingException\|A parameter cannot be found that matches parameter name 'PropertySets'\.$/,
      );
      expect(page.headers.get('x-exceptiontype')).toBe('ParameterBindingException');
    });

    it('binds parameter names case-insensitively and accepts common parameters', async () => {
      const page = await invoke(server, 'Get-Mailbox', { identity: tenant.mailboxes[0]!.guid, ErrorAction: 'Stop' }, { select: ['Guid'] });
      expect(page.status).toBe(200);
    });

    it('refuses an unknown cmdlet', async () => {
      const page = await invoke(server, 'Get-EXOMailbox', {});
      expect(page.status).toBe(400);
      expect(page.body.error?.details?.[0]?.message).toContain('System.Management.Automation.CommandNotFoundException');
    });

    it('refuses a string where a Boolean is expected', async () => {
      const mailbox = take(cleanE5);
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditEnabled: 'False' });
      expect(page.status).toBe(400);
      expect(exchangeErrorText(page.body)).toContain('Boolean parameters accept only Boolean values');
      expect(mailbox.auditEnabled).toBe(true);
    });

    it('refuses an invalid body', async () => {
      const response = await fetch(invokeUrl(server), {
        method: 'POST',
        headers: { authorization: `Bearer ${server.issueToken('https://outlook.office365.com')}`, 'content-type': 'application/json' },
        body: '{"CmdletInput":',
      });
      expect(response.status).toBe(400);
    });
  });

  describe('Set-Mailbox', () => {
    it('refuses MailItemsAccessed for a mailbox without the M365Auditing capability', async () => {
      const mailbox = take(cleanE3);
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.user.userPrincipalName, AuditOwner: { '@odata.type': HASHTABLE, Add: [MAIL_ITEMS_ACCESSED] } });
      expect(page.status).toBe(400);
      expect(exchangeErrorText(page.body)).toBe(MIA_LICENCE_ERROR);
      expect(mailbox.audit.Owner).not.toContain(MAIL_ITEMS_ACCESSED);
      expect(mailbox.defaultAuditSet).toContain('Owner');
    });

    it('refuses it for the group-licensing failure too, though Graph shows the plan Enabled', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.drift?.groupFailure)!;
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditAdmin: { '@odata.type': HASHTABLE, add: MAIL_ITEMS_ACCESSED } });
      expect(exchangeErrorText(page.body)).toBe(MIA_LICENCE_ERROR);
    });

    it('adds MailItemsAccessed back for a licensed mailbox; the logon type stays customised', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.drift?.missingActions.Owner?.includes(MAIL_ITEMS_ACCESSED) && !m.drift.groupFailure && m.recipientTypeDetails === 'UserMailbox')!;
      expect(findingsFor(server, mailbox.user.id)).toEqual(expect.arrayContaining(['mailitemsaccessed-missing/Owner', 'default-audit-set-customised/Owner']));
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditOwner: { '@odata.type': HASHTABLE, Add: [MAIL_ITEMS_ACCESSED] } });
      expect(page.status).toBe(200);
      expect(page.body.value).toEqual([]);
      expect(findingsFor(server, mailbox.user.id)).not.toContain('mailitemsaccessed-missing/Owner');
      expect(findingsFor(server, mailbox.user.id)).toContain('default-audit-set-customised/Owner');
    });

    it('customising a logon type removes it from DefaultAuditSet; -DefaultAuditSet restores it', async () => {
      const mailbox = take(cleanE5);
      const added = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditDelegate: { '@odata.type': HASHTABLE, ADD: ['FolderBind'] } });
      expect(added.status).toBe(200);
      const read = await invoke(server, 'Get-Mailbox', { Identity: mailbox.guid }, { select: ['AuditDelegate', 'DefaultAuditSet'] });
      expect(read.body.value?.[0]?.AuditDelegate).toContain('FolderBind');
      expect(read.body.value?.[0]?.DefaultAuditSet).toEqual(['Owner', 'Admin']);
      expect(findingsFor(server, mailbox.user.id)).toEqual(['default-audit-set-customised/Delegate']);

      const restored = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, DefaultAuditSet: ['Delegate'] });
      expect(restored.status).toBe(200);
      expect([...mailbox.defaultAuditSet].sort()).toEqual(['Admin', 'Delegate', 'Owner']);
      expect(mailbox.audit.Delegate).not.toContain('FolderBind');
      expect(findingsFor(server, mailbox.user.id)).toEqual([]);
    });

    it('a DefaultAuditSet reset never adds MailItemsAccessed without the capability', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.drift?.groupFailure && m.drift.customised.length === 0 && !m.drift.auditDisabled && !m.drift.retentionShort)!;
      expect(findingsFor(server, mailbox.user.id)).toEqual([
        'licence-inherited-blocks-mia',
        'mailitemsaccessed-missing/Admin',
        'mailitemsaccessed-missing/Delegate',
        'mailitemsaccessed-missing/Owner',
      ]);
      await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, DefaultAuditSet: 'Owner' });
      expect(mailbox.audit.Owner).not.toContain(MAIL_ITEMS_ACCESSED);
      // Exchange's managed set for a mailbox without the capability has no premium actions at all.
      expect(mailbox.audit.Owner).not.toContain('Send');
      expect(findingsFor(server, mailbox.user.id)).toContain('audit-actions-missing/Owner');
    });

    it('edits with Add and Remove keys in any case, and replaces with an array', async () => {
      const mailbox = take(cleanE5);
      const edited = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditAdmin: { '@odata.type': HASHTABLE, aDd: 'Copy', remove: ['UpdateInboxRules'] } });
      expect(edited.status).toBe(200);
      expect(mailbox.audit.Admin).toContain('Copy');
      expect(mailbox.audit.Admin).not.toContain('UpdateInboxRules');
      expect(findingsFor(server, mailbox.user.id)).toEqual(['audit-actions-missing/Admin', 'default-audit-set-customised/Admin']);

      const replaced = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditAdmin: ['Update', 'MailItemsAccessed'] });
      expect(replaced.status).toBe(200);
      expect([...mailbox.audit.Admin]).toEqual(['Update', 'MailItemsAccessed']);
    });

    it('needs the hashtable tag on an Add/Remove object', async () => {
      const mailbox = take(cleanE5);
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditOwner: { Add: ['Create'] } });
      expect(page.status).toBe(400);
      expect(exchangeErrorText(page.body)).toContain('#Exchange.GenericHashTable');
    });

    it('refuses an action the logon type does not accept, and an unknown action', async () => {
      const mailbox = take(cleanE5);
      const invalid = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditDelegate: { '@odata.type': HASHTABLE, Add: ['MailboxLogin'] } });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error?.details?.[0]?.message).toContain('Microsoft.Exchange.Data.DataValidationException');
      const unknown = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditOwner: { '@odata.type': HASHTABLE, Add: ['ReadEverything'] } });
      expect(unknown.body.error?.details?.[0]?.message).toContain('ParameterBindingException');
      expect(mailbox.defaultAuditSet).toHaveLength(3);
    });

    it('sets AuditEnabled and AuditLogAgeLimit ("d.hh:mm:ss"), and the oracle follows', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.drift?.auditDisabled && m.drift.retentionShort && m.recipientTypeDetails === 'UserMailbox')
        ?? tenant.mailboxes.find((m) => m.drift?.retentionShort && m.recipientTypeDetails === 'UserMailbox')!;
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditEnabled: true, AuditLogAgeLimit: '180.00:00:00' });
      expect(page.status).toBe(200);
      expect(findingsFor(server, mailbox.user.id)).not.toEqual(expect.arrayContaining(['retention-too-short']));
      expect(findingsFor(server, mailbox.user.id)).not.toEqual(expect.arrayContaining(['mailbox-audit-disabled']));
      const read = await invoke(server, 'Get-Mailbox', { Identity: mailbox.guid }, { select: ['AuditEnabled', 'AuditLogAgeLimit'] });
      expect(read.body.value?.[0]).toEqual({ AuditEnabled: true, AuditLogAgeLimit: '180.00:00:00' });

      const iso = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditLogAgeLimit: 'P90D' });
      expect(iso.status).toBe(400);
      const shorter = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditLogAgeLimit: '179.23:00:00' });
      expect(shorter.status).toBe(200);
      expect(findingsFor(server, mailbox.user.id)).toContain('retention-too-short');
    });

    it('warns when nothing changed', async () => {
      const mailbox = take(cleanE5);
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditEnabled: true, AuditOwner: { '@odata.type': HASHTABLE, Add: [MAIL_ITEMS_ACCESSED] } });
      expect(page.status).toBe(200);
      expect(page.body.value).toEqual([]);
      expect(page.body['@adminapi.warnings']).toEqual([`The command completed successfully but no settings of '${mailbox.alias}' have been modified.`]);
      expect(mailbox.defaultAuditSet).toHaveLength(3);
    });

    it('needs an Identity and refuses an unknown one', async () => {
      expect(exchangeErrorText((await invoke(server, 'Set-Mailbox', { AuditEnabled: true })).body)).toContain('missing mandatory parameters: Identity');
      expect(exchangeErrorText((await invoke(server, 'Set-Mailbox', { Identity: 'ghost', AuditEnabled: true })).body)).toContain("couldn't be found");
    });
  });

  describe('bypass associations and the organization', () => {
    it('lists associations and removes a bypass', async () => {
      const { records } = await invokeAll(server, 'Get-MailboxAuditBypassAssociation', { ResultSize: 'Unlimited' }, { pageSize: 1000, select: ['Guid', 'Identity', 'AuditBypassEnabled'] });
      expect(records).toHaveLength(tenant.associations.length);
      const bypassed = records.filter((record) => record.AuditBypassEnabled === true);
      expect(bypassed.length).toBeGreaterThan(0);
      const target = bypassed[0]!;
      expect(findingsFor(server, target.Guid as string)).toEqual(['audit-bypass-enabled']);

      const cleared = await invoke(server, 'Set-MailboxAuditBypassAssociation', { Identity: target.Identity, AuditBypassEnabled: false });
      expect(cleared.status).toBe(200);
      expect(findingsFor(server, target.Guid as string)).toEqual([]);
      const again = await invoke(server, 'Set-MailboxAuditBypassAssociation', { Identity: target.Guid, AuditBypassEnabled: false });
      expect(again.body['@adminapi.warnings']).toHaveLength(1);
      const one = await invoke(server, 'Get-MailboxAuditBypassAssociation', { Identity: target.Guid }, { select: ['AuditBypassEnabled'] });
      expect(one.body.value).toEqual([{ AuditBypassEnabled: false }]);
    });

    it('reads and sets AuditDisabled on the organization', async () => {
      const set = await invoke(server, 'Set-OrganizationConfig', { AuditDisabled: true });
      expect(set.status).toBe(200);
      expect(groundTruth(tenant)).toContainEqual({ ruleId: 'org-audit-disabled', objectId: tenant.domain });
      const read = await invoke(server, 'Get-OrganizationConfig', {}, { select: ['Identity', 'AuditDisabled'] });
      expect(read.body.value).toEqual([{ Identity: tenant.domain, AuditDisabled: true }]);
      await invoke(server, 'Set-OrganizationConfig', { AuditDisabled: false });
      expect(groundTruth(tenant).some((finding) => finding.ruleId === 'org-audit-disabled')).toBe(false);
      expect((await invoke(server, 'Get-OrganizationConfig', { Identity: 'x' })).status).toBe(400);
    });
  });
});

describe('AuditLogAgeLimit as ISO-8601', () => {
  it('prints P180D / P90D when the tenant is generated that way', async () => {
    const tenant = generateTenant({ seed: 2, mailboxes: 30, auditLogAgeLimitFormat: 'iso8601' });
    const server = await startSimulatedTenant({ tenant });
    try {
      const { records } = await invokeAll(server, 'Get-Mailbox', {}, { select: ['AuditLogAgeLimit'] });
      expect(new Set(records.map((record) => record.AuditLogAgeLimit))).toEqual(new Set(['P180D', 'P90D']));
    } finally {
      await server.stop();
    }
  });
});
