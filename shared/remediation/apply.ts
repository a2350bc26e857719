import { ADVANCED_AUDITING_PLAN_ID, LOGON_TYPES, type LogonType } from '../domain/audit';
import { AuditWardenError, ExchangeCommandError, ServiceError, ValidationError } from '../errors';
import { buildSetMailboxAuditParameters, type MailboxAuditChange } from '../exchange';
import type { RemediationChange, SetMailboxChange } from './plan';
import type { RemediationTenant } from './tenant';

/** What was sent to the tenant, for the record. */
export interface AppliedChange {
  /** The exact cmdlet and parameters, or the Graph call and body. */
  sent: { call: string; parameters: Record<string, unknown> };
  /** Exchange's warnings (e.g. "no settings … have been modified"). */
  warnings: string[];
}

/** A change that cannot be made as things stand; retrying will not help until a person acts. */
export class RemediationBlockedError extends AuditWardenError {
  override readonly name = 'RemediationBlockedError';
  constructor(
    message: string,
    /** The service's own words, when a service refused. */
    readonly serviceMessage?: string,
  ) {
    super(message);
  }
}

/** Exchange's refusal to audit MailItemsAccessed without the Advanced Auditing licence (REFERENCE.md §8). */
const LICENCE_REFUSAL = /only available for users with appropriate license/i;

export type FailureClass =
  | { kind: 'transient'; message: string }
  | { kind: 'permanent'; message: string; serviceMessage?: string; licenceRefusal: boolean; code?: string };

/**
 * Sorts a failure of apply or verify: transient (throttling, 5xx, network, storage hiccups — the
 * queue delivers again) or permanent (the tenant refused this change: the finding is blocked with
 * the service's message). Undefined for anything else — a bug — which the caller rethrows, so the
 * message is retried and, if it keeps failing, lands in the poison queue and is recorded there.
 */
export function classifyFailure(error: unknown): FailureClass | undefined {
  if (error instanceof RemediationBlockedError) {
    return { kind: 'permanent', message: error.message, ...(error.serviceMessage ? { serviceMessage: error.serviceMessage } : {}), licenceRefusal: false };
  }
  if (error instanceof ServiceError && error.transient) return { kind: 'transient', message: error.message };
  if (error instanceof ExchangeCommandError) {
    const serviceMessage = error.exchangeMessage || error.message;
    return { kind: 'permanent', message: error.message, serviceMessage, licenceRefusal: LICENCE_REFUSAL.test(serviceMessage), ...(error.code ? { code: error.code } : {}) };
  }
  if (error instanceof ServiceError && (error.service === 'graph' || error.service === 'exchange')) {
    return { kind: 'permanent', message: error.message, serviceMessage: error.message, licenceRefusal: false, ...(error.code ? { code: error.code } : {}) };
  }
  if (error instanceof ValidationError) return { kind: 'permanent', message: error.message, licenceRefusal: false };
  return undefined;
}

/**
 * Makes one change in the tenant. Set-* calls set target values (AuditEnabled $true, @{Add=…}),
 * so sending one twice leaves the tenant as sending it once did; the worker still avoids the second
 * call when it can tell the first one landed.
 */
export async function applyChange(tenant: RemediationTenant, change: RemediationChange): Promise<AppliedChange> {
  switch (change.kind) {
    case 'set-organization-config': {
      const outcome = await tenant.setOrganizationAuditDisabled(false);
      return { sent: { call: 'Set-OrganizationConfig', parameters: { AuditDisabled: false } }, warnings: outcome.warnings };
    }
    case 'set-bypass-association': {
      const outcome = await tenant.setBypassAssociation(change.identity, false);
      return {
        sent: { call: 'Set-MailboxAuditBypassAssociation', parameters: { Identity: change.identity, AuditBypassEnabled: false } },
        warnings: outcome.warnings,
      };
    }
    case 'set-mailbox': {
      const mailboxChange = await toMailboxChange(tenant, change);
      const outcome = await tenant.setMailbox(change.identity, mailboxChange);
      return { sent: { call: 'Set-Mailbox', parameters: buildSetMailboxAuditParameters(change.identity, mailboxChange) }, warnings: outcome.warnings };
    }
    case 'assign-licence': {
      const skuId = await licenceToAssign(tenant, change.userId);
      await tenant.assignLicence(change.userId, skuId);
      return {
        sent: { call: `POST /users/${change.userId}/assignLicense`, parameters: { addLicenses: [{ skuId, disabledPlans: [] }], removeLicenses: [] } },
        warnings: [],
      };
    }
  }
}

async function toMailboxChange(tenant: RemediationTenant, change: SetMailboxChange): Promise<MailboxAuditChange> {
  const result: MailboxAuditChange = {};
  if (change.auditEnabled) result.auditEnabled = true;
  if (change.auditLogAgeLimitDays !== undefined) result.auditLogAgeLimitDays = change.auditLogAgeLimitDays;
  if (change.addActions) result.addActions = change.addActions;
  if (change.defaultAuditSet) {
    // -DefaultAuditSet names every logon type that should be Microsoft-managed: send the ones that
    // already are with the ones being restored, or the call could un-manage them.
    const mailbox = await tenant.getMailbox(change.identity);
    if (!mailbox) throw new RemediationBlockedError(`The mailbox ${change.identity} no longer exists.`);
    const wanted = new Set<LogonType>([...mailbox.defaultAuditSet, ...change.defaultAuditSet]);
    result.defaultAuditSet = LOGON_TYPES.filter((type) => wanted.has(type));
  }
  return result;
}

/**
 * The SKU to assign directly: one that reaches the user through a group, is active, carries
 * Advanced Auditing and leaves it enabled. Graph refuses any assignment to a user without a usage
 * location (ProhibitedInUsageLocationViolation), so that is checked first and reported plainly.
 */
async function licenceToAssign(tenant: RemediationTenant, userId: string): Promise<string> {
  const user = await tenant.getUser(userId);
  if (!user) throw new RemediationBlockedError(`Microsoft Graph has no user ${userId}; there is nobody to assign a licence to.`);
  if (!user.usageLocation) {
    throw new RemediationBlockedError(
      `${user.userPrincipalName || userId} has no usage location, and Microsoft Graph refuses to assign a licence without one. ` +
        'Set it (Update-MgUser -UserId <upn> -UsageLocation <country code>) and approve the change again, or toggle the Advanced Auditing plan in the group\'s licence.',
    );
  }
  const skus = await tenant.skusWithAdvancedAuditing();
  const plan = ADVANCED_AUDITING_PLAN_ID.toLowerCase();
  const inherited = user.licenseAssignmentStates.find(
    (state) => Boolean(state.assignedByGroup) && skus.has(state.skuId.toLowerCase()) && !state.disabledPlans.includes(plan) && /^active/i.test(state.state ?? ''),
  );
  if (!inherited) {
    throw new RemediationBlockedError(
      `${user.userPrincipalName || userId} has no active group-inherited licence that carries Advanced Auditing, so there is no SKU to assign directly.`,
    );
  }
  return inherited.skuId.toLowerCase();
}
