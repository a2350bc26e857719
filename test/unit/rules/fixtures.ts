import { parsePolicy, type AuditPolicy } from '../../shared/config/policy';
import type {
  AdvancedAuditingLicence,
  BypassAssociation,
  LogonType,
  MailboxAuditSnapshot,
  OrganizationAuditSnapshot,
  UserLicenceState,
} from '../../shared/domain/audit';
import { MICROSOFT_DEFAULT_ACTIONS } from '../../shared/rules/compiled-policy';
import type { BypassRuleInput, MailboxRuleInput, OrganizationRuleInput } from '../../shared/rules/types';

export const OBJECT_ID = '6f1c2a7e-0b7d-4a43-9a35-2f0c3f6b9e11';
export const UPN = 'adele.vance@contoso.onmicrosoft.com';
export const ORG = 'contoso.onmicrosoft.com';
export const E5_SKU = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';
export const COMPLIANCE_SKU = '184efa21-98c3-4e5d-95ab-d07053a96e67';
export const LICENCE_GROUP = 'b1e0a7c2-5c43-4f7e-9b83-7f1d8a9c0d01';

/** A policy as a policy file would give it; omitted fields take their defaults. */
export function aPolicy(fields: Record<string, unknown> = {}): AuditPolicy {
  return parsePolicy(fields, 'test policy');
}

/** Microsoft's default list for a logon type (includes MailItemsAccessed), as a fresh array. */
export function defaultActions(logonType: LogonType): string[] {
  return [...MICROSOFT_DEFAULT_ACTIONS[logonType]];
}

export function without(list: readonly string[], ...actions: string[]): string[] {
  return list.filter((action) => !actions.includes(action));
}

/** A licensed user mailbox that every rule finds compliant under the default policy. */
export function aMailbox(fields: Partial<MailboxAuditSnapshot> = {}): MailboxAuditSnapshot {
  return {
    objectId: OBJECT_ID,
    exchangeGuid: '0d6f5b3a-98a1-4a8e-8d0f-3c1b6e2f7a90',
    userPrincipalName: UPN,
    primarySmtpAddress: 'adele.vance@contoso.com',
    recipientTypeDetails: 'UserMailbox',
    auditEnabled: true,
    auditLogAgeLimitDays: 180,
    auditActions: { Owner: defaultActions('Owner'), Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') },
    defaultAuditSet: ['Admin', 'Delegate', 'Owner'],
    persistedCapabilities: ['M365Auditing'],
    ...fields,
  };
}

/** A user whose E5 licence, assigned directly, carries an enabled Advanced Auditing plan. */
export function aLicence(plan: Partial<AdvancedAuditingLicence> = {}): UserLicenceState {
  return {
    objectId: OBJECT_ID,
    userPrincipalName: UPN,
    usageLocation: 'GB',
    advancedAuditing: {
      skuIncludesPlan: true,
      enabled: true,
      disabledInSkus: [],
      capabilityStatus: 'Enabled',
      source: 'direct',
      viaGroups: [],
      ...plan,
    },
  };
}

/** An organization with auditing on and unified audit log ingestion on: every organization rule is compliant. */
export function anOrganization(fields: Partial<OrganizationAuditSnapshot> = {}): OrganizationAuditSnapshot {
  const organization: OrganizationAuditSnapshot = { identity: ORG, auditDisabled: false, unifiedAuditLogIngestionEnabled: true };
  return Object.assign(organization, fields);
}

export function aBypassAssociation(fields: Partial<BypassAssociation> = {}): BypassAssociation {
  return {
    identity: 'svc-backup',
    objectId: '9a3e1f00-7d2c-4b1e-8f5a-112233445566',
    auditBypassEnabled: false,
    ...fields,
  };
}

export interface MailboxInputFields {
  mailbox?: Partial<MailboxAuditSnapshot>;
  /** Fields of the Advanced Auditing plan, or null for a mailbox without a licence. */
  plan?: Partial<AdvancedAuditingLicence> | null;
  policy?: AuditPolicy;
  organization?: Partial<OrganizationAuditSnapshot>;
  mailItemsAccessedRefused?: boolean;
}

export function mailboxInput(fields: MailboxInputFields = {}): MailboxRuleInput {
  return {
    mailbox: aMailbox(fields.mailbox),
    licence: fields.plan === null ? undefined : aLicence(fields.plan),
    organization: anOrganization(fields.organization),
    policy: fields.policy ?? aPolicy(),
    mailItemsAccessedRefused: fields.mailItemsAccessedRefused ?? false,
  };
}

/** A shared mailbox: no licence, and Exchange's default lists without the premium actions. */
export function sharedMailboxInput(fields: Omit<MailboxInputFields, 'plan'> = {}): MailboxRuleInput {
  const premium = ['MailItemsAccessed', 'Send'];
  return mailboxInput({
    ...fields,
    plan: null,
    mailbox: {
      recipientTypeDetails: 'SharedMailbox',
      userPrincipalName: 'support@contoso.onmicrosoft.com',
      persistedCapabilities: [],
      auditActions: {
        Owner: without(defaultActions('Owner'), ...premium),
        Delegate: without(defaultActions('Delegate'), ...premium),
        Admin: without(defaultActions('Admin'), ...premium),
      },
      ...fields.mailbox,
    },
  });
}

export function organizationInput(fields: Partial<OrganizationAuditSnapshot> = {}, policy = aPolicy()): OrganizationRuleInput {
  return { organization: anOrganization(fields), policy };
}

export function bypassInput(fields: Partial<BypassAssociation> = {}, policy = aPolicy()): BypassRuleInput {
  return { association: aBypassAssociation(fields), policy };
}
