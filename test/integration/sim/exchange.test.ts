import {
  ALREADY_AUDITED_ERROR,
  alreadyAuditedResponse,
  generateTenant,
  groundTruth,
  INGESTION_CHANGE_WARNING,
  MAIL_ITEMS_ACCESSED,
  MANAGED_DEFAULTS,
  MESSAGE_BIND_ERROR,
  MIA_LICENCE_ERROR,
  SKU_E3,
  SKU_E5,
  startSimulatedTenant,
  type LicenceModel,
  type SimMailbox,
  type SimulatedTenantServer,
} from '../../../sim';
import { exchangeErrorText, HASHTABLE, invoke, invokeAll, invokeUrl, oracleFindingsFor } from '../../support/sim-api';

const findingsFor = (server: SimulatedTenantServer, objectId: string): string[] => oracleFindingsFor(groundTruth(server.tenant), objectId);

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
  /** Clean E5 mailboxes that answer an already-audited Add with success and a warning. */
  const warningE5 = cleanE5.filter((m) => alreadyAuditedResponse(tenant, m) === 'warning');
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
    it('accepts MailItemsAccessed on an E3 mailbox customised without it (2026 model)', async () => {
      const mailbox = tenant.mailboxes.find(
        (m) => m.user.licences[0]?.skuId === SKU_E3.skuId && m.drift?.missingActions.Owner?.includes(MAIL_ITEMS_ACCESSED) && !m.persistedCapabilities.includes('M365Auditing'),
      )!;
      expect(findingsFor(server, mailbox.user.id)).toEqual(expect.arrayContaining(['mailitemsaccessed-missing/Owner', 'default-audit-set-customised/Owner']));
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.user.userPrincipalName, AuditOwner: { '@odata.type': HASHTABLE, Add: [MAIL_ITEMS_ACCESSED] } });
      expect(page.status).toBe(200);
      expect(mailbox.audit.Owner).toContain(MAIL_ITEMS_ACCESSED);
      expect(findingsFor(server, mailbox.user.id)).not.toContain('mailitemsaccessed-missing/Owner');
      expect(findingsFor(server, mailbox.user.id)).toContain('default-audit-set-customised/Owner');
    });

    it('refuses MailItemsAccessed for the group-licensing failure, though Graph shows the plan Enabled', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.drift?.groupFailure)!;
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditAdmin: { '@odata.type': HASHTABLE, add: MAIL_ITEMS_ACCESSED } });
      expect(page.status).toBe(400);
      expect(exchangeErrorText(page.body)).toBe(MIA_LICENCE_ERROR);
      expect(page.body.error?.details?.[0]?.message).toContain('Microsoft.Exchange.Data.DataValidationException');
      // Send is Audit (Standard) since 2024: only MailItemsAccessed is refused.
      expect(mailbox.audit.Owner).toContain('Send');
    });

    it('refuses MessageBind as deprecated', async () => {
      const mailbox = take(cleanE5);
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditAdmin: { '@odata.type': HASHTABLE, Add: ['MessageBind'] } });
      expect(page.status).toBe(400);
      expect(exchangeErrorText(page.body)).toBe(MESSAGE_BIND_ERROR);
      expect(page.headers.get('x-exceptiontype')).toBe('RecipientTaskException');
      expect(mailbox.defaultAuditSet).toHaveLength(3);
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

    it('a DefaultAuditSet reset never adds MailItemsAccessed during the group-licensing failure', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.drift?.groupFailure && m.drift.customised.length === 0 && !m.drift.auditDisabled && !m.drift.auditLogAgeShort)!;
      expect(findingsFor(server, mailbox.user.id)).toEqual([
        'licence-inherited-blocks-mia',
        'mailitemsaccessed-missing/Admin',
        'mailitemsaccessed-missing/Delegate',
        'mailitemsaccessed-missing/Owner',
      ]);
      await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, DefaultAuditSet: 'Owner' });
      expect(mailbox.audit.Owner).not.toContain(MAIL_ITEMS_ACCESSED);
      expect(mailbox.audit.Owner).toContain('Send');
      expect(findingsFor(server, mailbox.user.id)).toContain('mailitemsaccessed-missing/Owner');
      expect(findingsFor(server, mailbox.user.id)).not.toContain('audit-actions-missing/Owner');
    });

    it('a DefaultAuditSet reset of an E3 mailbox restores the full 2026 list', async () => {
      const mailbox = tenant.mailboxes.find((m) => m.user.licences[0]?.skuId === SKU_E3.skuId && m.drift?.customised.includes('Owner') && !m.drift.auditDisabled && !m.drift.auditLogAgeShort && m.drift.customised.length === 1)!;
      const reset = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, DefaultAuditSet: ['Owner'] });
      expect(reset.status).toBe(200);
      expect([...mailbox.audit.Owner]).toEqual([...MANAGED_DEFAULTS.Owner]);
      expect(findingsFor(server, mailbox.user.id)).toEqual(['audit-retention-too-short']);
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
      const mailbox = tenant.mailboxes.find((m) => m.drift?.auditDisabled && m.drift.auditLogAgeShort && m.recipientTypeDetails === 'UserMailbox')
        ?? tenant.mailboxes.find((m) => m.drift?.auditLogAgeShort && m.recipientTypeDetails === 'UserMailbox')!;
      const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditEnabled: true, AuditLogAgeLimit: '180.00:00:00' });
      expect(page.status).toBe(200);
      expect(findingsFor(server, mailbox.user.id)).not.toContain('mailbox-audit-log-age-short');
      expect(findingsFor(server, mailbox.user.id)).not.toEqual(expect.arrayContaining(['mailbox-audit-disabled']));
      const read = await invoke(server, 'Get-Mailbox', { Identity: mailbox.guid }, { select: ['AuditEnabled', 'AuditLogAgeLimit'] });
      expect(read.body.value?.[0]).toEqual({ AuditEnabled: true, AuditLogAgeLimit: '180.00:00:00' });

      const iso = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditLogAgeLimit: 'P90D' });
      expect(iso.status).toBe(400);
      const shorter = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditLogAgeLimit: '179.23:00:00' });
      expect(shorter.status).toBe(200);
      expect(findingsFor(server, mailbox.user.id)).toContain('mailbox-audit-log-age-short');
    });

    it('warns when nothing changed', async () => {
      const mailbox = take(warningE5);
      cleanE5.splice(cleanE5.indexOf(mailbox), 1);
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

    it('lists the accounts without a mailbox with the mailbox accounts, through paging and $select', async () => {
      const accounts = tenant.mailboxlessAssociations;
      expect(accounts.length).toBe(3);
      const { records, pages } = await invokeAll(server, 'Get-MailboxAuditBypassAssociation', { ResultSize: 'Unlimited' }, { pageSize: 200, select: ['Identity', 'Guid', 'AuditBypassEnabled'] });
      expect(pages).toBe(Math.ceil(tenant.associations.length / 200));
      expect(records).toHaveLength(tenant.associations.length);
      expect(records.slice(0, 3)).toEqual(accounts.map((a) => ({ Identity: a.identity, Guid: a.guid, AuditBypassEnabled: a.auditBypassEnabled })));
      expect(Object.keys(records[5] ?? {})).toEqual(['Identity', 'Guid', 'AuditBypassEnabled']);
      // Without ResultSize: the first 1000, accounts included, and Exchange's warning.
      const capped = await invokeAll(server, 'Get-MailboxAuditBypassAssociation', {}, { pageSize: 1000, select: ['Identity'] });
      expect(capped.records).toHaveLength(1000);
      expect(capped.records[0]).toEqual({ Identity: 'svc-backup' });
      expect(capped.warnings).toHaveLength(1);
    });

    it('reads and sets the bypass of an account without a mailbox by name, UPN or Guid; the oracle follows', async () => {
      const account = tenant.mailboxlessAssociations[1]!;
      expect(account.auditBypassEnabled).toBe(false);
      const one = await invoke(server, 'Get-MailboxAuditBypassAssociation', { Identity: account.identity });
      expect(one.body.value?.[0]).toMatchObject({ Identity: account.identity, Guid: account.guid, AuditBypassEnabled: false });
      expect((await invoke(server, 'Get-Mailbox', { Identity: account.identity })).status).toBe(400);

      const set = await invoke(server, 'Set-MailboxAuditBypassAssociation', { Identity: account.accountUpn, AuditBypassEnabled: true });
      expect(set.status).toBe(200);
      expect(findingsFor(server, account.guid)).toEqual(['audit-bypass-enabled']);
      const cleared = await invoke(server, 'Set-MailboxAuditBypassAssociation', { Identity: account.guid, AuditBypassEnabled: false });
      expect(cleared.status).toBe(200);
      expect(findingsFor(server, account.guid)).toEqual([]);
      expect(server.received.cmdlets.slice(-2).map((call) => call.cmdlet)).toEqual(['Set-MailboxAuditBypassAssociation', 'Set-MailboxAuditBypassAssociation']);
    });
  });

  describe('Get-AdminAuditLogConfig and Set-AdminAuditLogConfig', () => {
    it('reads one record shaped as Exchange Online\'s, with its @data.type sidecars', async () => {
      const page = await invoke(server, 'Get-AdminAuditLogConfig');
      expect(page.status).toBe(200);
      expect(page.body['@odata.nextLink']).toBeUndefined();
      expect(page.body.value).toEqual([
        {
          AdminAuditLogEnabled: true,
          LogLevel: 'None',
          TestCmdletLoggingEnabled: false,
          AdminAuditLogAgeLimit: '90.00:00:00',
          'LoadBalancerCount@data.type': 'System.Int32',
          LoadBalancerCount: 3,
          UnifiedAuditLogIngestionEnabled: true,
          'UnifiedAuditLogFirstOptInDate@data.type': 'System.DateTime',
          UnifiedAuditLogFirstOptInDate: expect.stringMatching(/^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/),
          Name: 'Admin Audit Log Settings',
          Identity: 'Admin Audit Log Settings',
        },
      ]);
      const selected = await invoke(server, 'Get-AdminAuditLogConfig', {}, { select: ['UnifiedAuditLogIngestionEnabled'] });
      expect(selected.body.value).toEqual([{ UnifiedAuditLogIngestionEnabled: true }]);
    });

    it('switches ingestion off and on; the oracle follows', async () => {
      const off = await invoke(server, 'Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: false });
      expect(off.status).toBe(200);
      expect(off.body.value).toEqual([]);
      expect(off.body['@adminapi.warnings']).toEqual([INGESTION_CHANGE_WARNING]);
      expect(groundTruth(tenant)).toContainEqual({ ruleId: 'audit-log-ingestion-disabled', objectId: tenant.domain });
      const read = await invoke(server, 'Get-AdminAuditLogConfig', {}, { select: ['UnifiedAuditLogIngestionEnabled', 'Identity'] });
      expect(read.body.value).toEqual([{ UnifiedAuditLogIngestionEnabled: false, Identity: 'Admin Audit Log Settings' }]);

      const same = await invoke(server, 'Set-AdminAuditLogConfig', { unifiedauditlogingestionenabled: false });
      expect(same.body['@adminapi.warnings']).toEqual(["The command completed successfully but no settings of 'Admin Audit Log Settings' have been modified."]);
      const whatIf = await invoke(server, 'Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: true, WhatIf: true });
      expect(whatIf.status).toBe(200);
      expect(tenant.organization.unifiedAuditLogIngestionEnabled).toBe(false);

      const on = await invoke(server, 'Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: true });
      expect(on.status).toBe(200);
      expect(groundTruth(tenant).some((finding) => finding.ruleId === 'audit-log-ingestion-disabled')).toBe(false);
      expect(server.received.cmdlets.filter((call) => call.cmdlet === 'Set-AdminAuditLogConfig').map((call) => call.parameters)).toContainEqual({ UnifiedAuditLogIngestionEnabled: true });
    });

    it('refuses every other parameter as Exchange Online does, and a string for the Boolean', async () => {
      for (const parameters of [{ AdminAuditLogAgeLimit: '180.00:00:00' }, { AdminAuditLogEnabled: true }, { LogLevel: 'Verbose' }, { UnifiedAuditLogIngestionEnabled: true, Identity: 'x' }]) {
        const page = await invoke(server, 'Set-AdminAuditLogConfig', parameters);
        expect(page.status).toBe(400);
        expect(page.body.error?.details?.[0]?.message).toMatch(/\|System\.Management\.Automation\.ParameterBindingException\|A parameter cannot be found that matches parameter name '\w+'\.$/);
      }
      const get = await invoke(server, 'Get-AdminAuditLogConfig', { DomainController: 'dc1' });
      expect(exchangeErrorText(get.body)).toBe("A parameter cannot be found that matches parameter name 'DomainController'.");
      const text = await invoke(server, 'Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: 'False' });
      expect(exchangeErrorText(text.body)).toContain('Boolean parameters accept only Boolean values');
      expect(tenant.organization.unifiedAuditLogIngestionEnabled).toBe(true);
    });
  });

  describe('@{Add=…} for an action already in the list', () => {
    it('answers per mailbox, deterministically: an error or a success with a warning', async () => {
      const errorOnes = cleanE5.filter((m) => alreadyAuditedResponse(tenant, m) === 'error');
      const warningOnes = cleanE5.filter((m) => alreadyAuditedResponse(tenant, m) === 'warning');
      expect(errorOnes.length).toBeGreaterThan(5);
      expect(warningOnes.length).toBeGreaterThan(5);
      expect(alreadyAuditedResponse(generateTenant({ seed: 41, mailboxes: 1500 }), generateTenant({ seed: 41, mailboxes: 1500 }).mailboxes[errorOnes[0]!.index]!)).toBe('error');

      const failing = take(errorOnes);
      cleanE5.splice(cleanE5.indexOf(failing), 1);
      const error = await invoke(server, 'Set-Mailbox', { Identity: failing.guid, AuditEnabled: false, AuditOwner: { '@odata.type': HASHTABLE, Add: ['Create', 'HardDelete'] } });
      expect(error.status).toBe(400);
      expect(exchangeErrorText(error.body)).toBe(ALREADY_AUDITED_ERROR);
      expect(error.body.error?.code).toBe('BadRequest');
      // Nothing of the call was applied.
      expect(failing.auditEnabled).toBe(true);
      expect(failing.audit.Owner).not.toContain('Create');
      expect(failing.defaultAuditSet).toHaveLength(3);

      const warning = take(warningOnes);
      cleanE5.splice(cleanE5.indexOf(warning), 1);
      const same = await invoke(server, 'Set-Mailbox', { Identity: warning.guid, AuditOwner: { '@odata.type': HASHTABLE, Add: ['HardDelete'] } });
      expect(same.status).toBe(200);
      expect(same.body['@adminapi.warnings']).toEqual([`The command completed successfully but no settings of '${warning.alias}' have been modified.`]);
      const partly = await invoke(server, 'Set-Mailbox', { Identity: warning.guid, AuditOwner: { '@odata.type': HASHTABLE, Add: ['HardDelete', 'Create'] } });
      expect(partly.status).toBe(200);
      expect(warning.audit.Owner).toContain('Create');
      expect(findingsFor(server, warning.user.id)).toEqual(['default-audit-set-customised/Owner']);
    });
  });
});

describe.each(['2026', '2023'] as const)('Exchange under the %s licence model', (licenceModel: LicenceModel) => {
  const tenant = generateTenant({ seed: 43, mailboxes: 400, licenceModel });
  let server: SimulatedTenantServer;
  beforeAll(async () => {
    server = await startSimulatedTenant({ tenant });
  });
  afterAll(async () => {
    await server.stop();
  });
  const standard = (kind: 'UserMailbox' | 'SharedMailbox'): SimMailbox[] =>
    tenant.mailboxes.filter(
      (m) => m.recipientTypeDetails === kind && !m.persistedCapabilities.includes('M365Auditing') && !m.drift?.groupFailure && !m.drift?.planDisabled && m.defaultAuditSet.length === 3 && alreadyAuditedResponse(tenant, m) === 'warning',
    );
  const refuses = licenceModel === '2023';

  it(`${refuses ? 'refuses' : 'accepts'} @{Add='MailItemsAccessed'} and Send on E3 and shared mailboxes`, async () => {
    for (const mailbox of [standard('UserMailbox')[0]!, standard('SharedMailbox')[0]!]) {
      expect(mailbox.audit.Owner.includes(MAIL_ITEMS_ACCESSED)).toBe(!refuses);
      const mia = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditDelegate: { '@odata.type': HASHTABLE, Add: [MAIL_ITEMS_ACCESSED] } });
      const send = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditAdmin: { '@odata.type': HASHTABLE, Add: ['Send'] } });
      if (refuses) {
        for (const page of [mia, send]) {
          expect(page.status).toBe(400);
          expect(exchangeErrorText(page.body)).toBe(MIA_LICENCE_ERROR);
          expect(page.body.error?.innererror?.internalException?.message).toBe(MIA_LICENCE_ERROR);
        }
        expect(mailbox.defaultAuditSet).toHaveLength(3);
        expect(findingsFor(server, mailbox.user.id)).toContain('mailitemsaccessed-missing/Delegate');
      } else {
        // Already there (the managed list has it): the usual no-change warning.
        for (const page of [mia, send]) {
          expect(page.status).toBe(200);
          expect(page.body['@adminapi.warnings']).toHaveLength(1);
        }
        expect(findingsFor(server, mailbox.user.id)).toEqual(['audit-retention-too-short']);
      }
    }
  });

  it(`${refuses ? 'refuses' : 'accepts'} MailItemsAccessed after it was removed from an E3 mailbox`, async () => {
    const mailbox = standard('UserMailbox')[1]!;
    const removed = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditOwner: { '@odata.type': HASHTABLE, Remove: [MAIL_ITEMS_ACCESSED, 'Update'] } });
    expect(removed.status).toBe(200);
    const added = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditOwner: { '@odata.type': HASHTABLE, Add: [MAIL_ITEMS_ACCESSED] } });
    expect(added.status).toBe(refuses ? 400 : 200);
    expect(mailbox.audit.Owner.includes(MAIL_ITEMS_ACCESSED)).toBe(!refuses);
    expect(findingsFor(server, mailbox.user.id).includes('mailitemsaccessed-missing/Owner')).toBe(refuses);
    // A reset gives back Microsoft's managed list for the model: with MailItemsAccessed only in 2026.
    await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, DefaultAuditSet: 'Owner' });
    expect(mailbox.audit.Owner.includes(MAIL_ITEMS_ACCESSED)).toBe(!refuses);
    expect(mailbox.audit.Owner.includes('Send')).toBe(!refuses);
  });

  it('refuses MailItemsAccessed during the group-licensing failure in both models', async () => {
    const mailbox = tenant.mailboxes.find((m) => m.drift?.groupFailure)!;
    const page = await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditOwner: [...mailbox.audit.Owner, MAIL_ITEMS_ACCESSED] });
    expect(page.status).toBe(400);
    expect(exchangeErrorText(page.body)).toBe(MIA_LICENCE_ERROR);
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
