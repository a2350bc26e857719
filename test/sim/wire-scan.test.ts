import { ADVANCED_AUDITING_PLAN_ID, LOGON_TYPES, MAIL_ITEMS_ACCESSED } from '../../shared/domain/audit';
import { findingKey } from '../../shared/domain/finding';
import auditActions from '../../shared/rules/audit-actions.json';
import { generateTenant, groundTruth, parseTimeSpan, SKU_E3, SKU_E5, startSimulatedTenant, type SimulatedTenantServer } from '../../sim';
import { mulberry32 } from '../../sim/prng';
import { graphGet, graphPost, invoke, invokeAll } from './helpers';

interface GraphUser {
  id: string;
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
  assignedPlans: { servicePlanId: string; capabilityStatus: string }[];
  licenseAssignmentStates: { skuId: string; assignedByGroup: string | null; disabledPlans: string[] }[];
}

/**
 * A minimal scan written only against the wire (what a client sees), under the default policy.
 * If it agrees with groundTruth(), the simulator serves what its oracle says it injected — so a
 * scanner that disagrees with the oracle is wrong, not the simulator.
 */
async function scanOverHttp(server: SimulatedTenantServer, format: 'timespan' | 'iso8601'): Promise<string[]> {
  const skus = await graphGet<{ value: { skuId: string; servicePlans: { servicePlanId: string }[] }[] }>(server, '/subscribedSkus');
  const planSkus = new Set(skus.body.value.filter((sku) => sku.servicePlans.some((plan) => plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID)).map((sku) => sku.skuId));

  const users = new Map<string, GraphUser>();
  let url: string | undefined = `${server.baseUrl}/v1.0/users?$filter=${encodeURIComponent('assignedLicenses/$count ne 0')}&$count=true&$top=999&$select=id,assignedLicenses,assignedPlans,licenseAssignmentStates`;
  while (url) {
    const page: { body: { value: GraphUser[]; '@odata.nextLink'?: string } } = await graphGet(server, url, { ConsistencyLevel: 'eventual' });
    for (const user of page.body.value) users.set(user.id, user);
    url = page.body['@odata.nextLink'];
  }

  const { records } = await invokeAll(
    server,
    'Get-Mailbox',
    { ResultSize: 'Unlimited', RecipientTypeDetails: 'UserMailbox,SharedMailbox' },
    { pageSize: 1000, select: ['ExternalDirectoryObjectId', 'AuditEnabled', 'AuditLogAgeLimit', 'AuditOwner', 'AuditDelegate', 'AuditAdmin', 'DefaultAuditSet', 'PersistedCapabilities'] },
  );
  const found: string[] = [];
  const defaults = auditActions.default as Record<string, string[]>;
  const premiumOnly = new Set(auditActions.premiumOnly);
  for (const mailbox of records) {
    const objectId = mailbox.ExternalDirectoryObjectId as string;
    const user = users.get(objectId);
    const planAssignments = user?.licenseAssignmentStates.filter((state) => planSkus.has(state.skuId)) ?? [];
    const enabledAssignments = planAssignments.filter((state) => !state.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID));
    const planEnabled = enabledAssignments.length > 0 && (user?.assignedPlans.some((plan) => plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID && plan.capabilityStatus === 'Enabled') ?? false);
    const add = (ruleId: string, logonType?: string): void => {
      found.push(logonType ? `${ruleId}|${objectId}|${logonType}` : `${ruleId}|${objectId}`);
    };

    if (mailbox.AuditEnabled === false) add('mailbox-audit-disabled');
    const text = mailbox.AuditLogAgeLimit as string;
    const seconds = format === 'iso8601' ? Number(/^P(\d+)D$/.exec(text)?.[1]) * 86_400 : parseTimeSpan(text);
    if (seconds === undefined || Number.isNaN(seconds)) throw new Error(`Unreadable AuditLogAgeLimit ${text}`);
    if (seconds < 180 * 86_400) add('retention-too-short');
    if (planAssignments.length > 0 && !planEnabled) add('advanced-auditing-plan-missing');
    const groupOnly = planEnabled && enabledAssignments.every((state) => state.assignedByGroup !== null);
    if (groupOnly && !(mailbox.PersistedCapabilities as string[]).includes('M365Auditing')) add('licence-inherited-blocks-mia');
    for (const type of LOGON_TYPES) {
      const list = mailbox[`Audit${type}`] as string[];
      const required = (defaults[type] ?? []).filter((action) => planEnabled || !premiumOnly.has(action));
      const missing = required.filter((action) => !list.includes(action));
      if (missing.includes(MAIL_ITEMS_ACCESSED)) add('mailitemsaccessed-missing', type);
      if (missing.some((action) => action !== MAIL_ITEMS_ACCESSED)) add('audit-actions-missing', type);
      if (!(mailbox.DefaultAuditSet as string[]).includes(type)) add('default-audit-set-customised', type);
    }
  }
  const bypasses = await invokeAll(server, 'Get-MailboxAuditBypassAssociation', { ResultSize: 'Unlimited' }, { pageSize: 1000, select: ['Guid', 'AuditBypassEnabled'] });
  for (const association of bypasses.records) if (association.AuditBypassEnabled === true) found.push(`audit-bypass-enabled|${association.Guid as string}`);
  const org = await invoke(server, 'Get-OrganizationConfig', {}, { select: ['Identity', 'AuditDisabled'] });
  const organization = org.body.value?.[0];
  if (organization?.AuditDisabled === true) found.push(`org-audit-disabled|${organization.Identity as string}`);

  return found.sort();
}

describe('a reference scan over HTTP', () => {
  it.each([
    ['timespan', false],
    ['iso8601', true],
  ] as const)('finds exactly the ground truth (%s retention, org audit disabled: %s)', async (format, orgAuditDisabled) => {
    const tenant = generateTenant({ seed: 71, mailboxes: 2500, auditLogAgeLimitFormat: format, orgAuditDisabled });
    const server = await startSimulatedTenant({ tenant });
    try {
      expect(await scanOverHttp(server, format)).toEqual(groundTruth(tenant).map(findingKey).sort());
    } finally {
      await server.stop();
    }
  });

  it('still finds exactly the ground truth after hundreds of random changes through the APIs', async () => {
    const tenant = generateTenant({ seed: 72, mailboxes: 800 });
    const server = await startSimulatedTenant({ tenant });
    const random = mulberry32(2024);
    const hashtable = (key: 'Add' | 'Remove', action: string) => ({ '@odata.type': '#Exchange.GenericHashTable', [key]: [action] });
    const actions = ['MailItemsAccessed', 'UpdateInboxRules', 'HardDelete', 'Send', 'Create', 'FolderBind', 'MailboxLogin', 'SendAs'];
    const statuses = new Map<number, number>();
    try {
      for (let step = 0; step < 300; step++) {
        const mailbox = random.pick(tenant.mailboxes);
        const logonType = random.pick(['Owner', 'Delegate', 'Admin']);
        let status: number;
        switch (random.nextInt(8)) {
          case 0:
            status = (await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditEnabled: random.chance(0.5) })).status;
            break;
          case 1:
            status = (await invoke(server, 'Set-Mailbox', { Identity: mailbox.user.userPrincipalName, AuditLogAgeLimit: random.pick(['90.00:00:00', '180.00:00:00', '365.00:00:00', '179.12:00:00']) })).status;
            break;
          case 2:
            status = (await invoke(server, 'Set-Mailbox', { Identity: mailbox.alias, [`Audit${logonType}`]: hashtable(random.chance(0.5) ? 'Add' : 'Remove', random.pick(actions)) })).status;
            break;
          case 3:
            status = (await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, DefaultAuditSet: logonType })).status;
            break;
          case 4:
            status = (await invoke(server, 'Set-MailboxAuditBypassAssociation', { Identity: mailbox.association.guid, AuditBypassEnabled: random.chance(0.3) })).status;
            break;
          case 5: {
            const disabledPlans = random.chance(0.5) ? [ADVANCED_AUDITING_PLAN_ID] : [];
            const body = random.chance(0.8)
              ? { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans }], removeLicenses: [] }
              : { addLicenses: [{ skuId: SKU_E3.skuId, disabledPlans: [] }], removeLicenses: [] };
            status = (await graphPost(server, `/users/${mailbox.user.id}/assignLicense`, body)).status;
            break;
          }
          case 6: {
            const group = random.pick(tenant.groups);
            const sku = group.licences[0]?.skuId ?? SKU_E5.skuId;
            const disabledPlans = sku === SKU_E5.skuId && random.chance(0.5) ? [ADVANCED_AUDITING_PLAN_ID] : [];
            status = (await graphPost(server, `/groups/${group.id}/assignLicense`, { addLicenses: [{ skuId: sku, disabledPlans }], removeLicenses: [] })).status;
            break;
          }
          default:
            status = (await invoke(server, 'Set-OrganizationConfig', { AuditDisabled: random.chance(0.2) })).status;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      // Some changes were refused (MailItemsAccessed without the licence, no usage location...), most applied.
      expect(statuses.get(400)).toBeGreaterThan(0);
      expect((statuses.get(200) ?? 0) + (statuses.get(202) ?? 0)).toBeGreaterThan(200);
      expect(await scanOverHttp(server, 'timespan')).toEqual(groundTruth(tenant).map(findingKey).sort());
    } finally {
      await server.stop();
    }
  });
});
