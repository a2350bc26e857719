import type { AuditPolicy } from '../../../shared/config/policy';
import type { AdvancedAuditingLicence, BypassAssociation, MailboxAuditSnapshot, OrganizationAuditSnapshot } from '../../../shared/domain/audit';
import type { BypassRuleInput, MailboxRuleInput, OrganizationRuleInput } from '../../../shared/rules/types';
import { aBypassAssociation } from '../../support/fixtures/bypass';
import { aLicence } from '../../support/fixtures/licence';
import { aMailbox, defaultActions, without } from '../../support/fixtures/mailbox';
import { anOrganization } from '../../support/fixtures/organization';
import { aPolicy } from '../../support/fixtures/policy';

/** What a rule is handed: the fixture nouns (test/support/fixtures) put together. */
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
