import { LOGON_TYPES, type LogonType } from '../domain/audit';
import { AuditWardenError, ExchangeCommandError, ServiceError, ValidationError } from '../errors';
import { auditRefusalOf, buildSetMailboxAuditParameters, type MailboxAuditChange } from '../exchange';
import { directAssignmentFor, sameAssignmentBody } from '../remediation/licence';
import { assignmentBody, type AssignLicenceChange, type RemediationChange, type SetMailboxChange } from '../remediation/plan';
import type { RemediationTenant } from './gateway';

/** A direct licence Audit Warden assigned, kept on the remediation record so it can be removed later. */
export interface DirectLicenceRecord {
  userId: string;
  skuId: string;
  skuPartNumber: string;
  disabledPlans: string[];
}

/** What was sent to the tenant, for the record. */
export interface AppliedChange {
  /** The exact cmdlet and parameters, or the Graph call and body. */
  sent: { call: string; parameters: Record<string, unknown> };
  /** Exchange's warnings (e.g. "no settings … have been modified", "already being audited"). */
  warnings: string[];
  /** Set for assign-licence: the licence now held directly. */
  directLicence?: DirectLicenceRecord;
}

/** A change that cannot be made as things stand; retrying will not help until a person acts. */
export class RemediationBlockedError extends AuditWardenError {
  override readonly name = 'RemediationBlockedError';
  constructor(
    message: string,
    /** The service's own words, when a service refused. */
    readonly serviceMessage?: string,
    /** Exchange refused this before for want of a licence and nothing changed since: not sent again. */
    readonly earlierLicenceRefusal = false,
  ) {
    super(message);
  }
}

/**
 * The tenant changed since the change was approved, so it is no longer the change a person
 * approved: nothing was sent. The finding goes back to planning, which proposes the change as it
 * would be now for a fresh approval.
 */
export class ApprovedChangeOutdatedError extends AuditWardenError {
  override readonly name = 'ApprovedChangeOutdatedError';
}

export type FailureClass =
  | { kind: 'transient'; message: string }
  | { kind: 'outdated'; message: string }
  | {
      kind: 'permanent';
      message: string;
      serviceMessage?: string;
      /** Exchange's licence refusal (auditRefusalOf: licence-required), now or remembered. */
      licenceRefusal: boolean;
      /** The refusal is one recorded earlier, not news: nothing was sent this time. */
      earlier?: boolean;
      code?: string;
    };

/**
 * Sorts a failure of apply or verify: transient (throttling, 5xx, network, storage hiccups — the
 * queue delivers again), outdated (an approved change that no longer matches the tenant) or
 * permanent (the tenant refused this change: the finding is blocked with the service's message).
 * Undefined for anything else — a bug — which the caller rethrows, so the message is retried and,
 * if it keeps failing, lands in the poison queue and is recorded there.
 */
export function classifyFailure(error: unknown): FailureClass | undefined {
  if (error instanceof ApprovedChangeOutdatedError) return { kind: 'outdated', message: error.message };
  if (error instanceof RemediationBlockedError) {
    return {
      kind: 'permanent',
      message: error.message,
      ...(error.serviceMessage ? { serviceMessage: error.serviceMessage } : {}),
      licenceRefusal: error.earlierLicenceRefusal,
      ...(error.earlierLicenceRefusal ? { earlier: true } : {}),
    };
  }
  if (error instanceof ServiceError && error.transient) return { kind: 'transient', message: error.message };
  if (error instanceof ExchangeCommandError) {
    const serviceMessage = error.exchangeMessage || error.message;
    return {
      kind: 'permanent',
      message: error.message,
      serviceMessage,
      licenceRefusal: auditRefusalOf(error) === 'licence-required',
      ...(error.code ? { code: error.code } : {}),
    };
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
    case 'set-admin-audit-log-config': {
      const outcome = await tenant.enableUnifiedAuditLogIngestion();
      return { sent: { call: 'Set-AdminAuditLogConfig', parameters: { UnifiedAuditLogIngestionEnabled: true } }, warnings: outcome.warnings };
    }
    case 'set-bypass-association': {
      const outcome = await tenant.setBypassAssociation(change.identity, false);
      return {
        sent: { call: 'Set-MailboxAuditBypassAssociation', parameters: { Identity: change.identity, AuditBypassEnabled: false } },
        warnings: outcome.warnings,
      };
    }
    case 'set-mailbox':
      return applySetMailbox(tenant, change);
    case 'reprocess-licence': {
      await tenant.reprocessLicence(change.userId);
      return { sent: { call: `POST /users/${change.userId}/reprocessLicenseAssignment`, parameters: {} }, warnings: [] };
    }
    case 'assign-licence':
      return applyAssignment(tenant, change);
  }
}

/**
 * Set-Mailbox. Exchange answers an @{Add=…} of an action the list already holds either with a
 * warning (a success) or with "The input operation(s) is/are already being audited." (an error,
 * REFERENCE.md §8) — and an error means nothing in the call was applied. So on that error the
 * mailbox is re-read: if every action asked for is there, the change is in place (the verifier
 * re-reads again to be sure); otherwise the call is sent once more with only what is missing.
 */
async function applySetMailbox(tenant: RemediationTenant, change: SetMailboxChange): Promise<AppliedChange> {
  const mailboxChange = await toMailboxChange(tenant, change);
  const sent = { call: 'Set-Mailbox', parameters: buildSetMailboxAuditParameters(change.identity, mailboxChange) };
  try {
    const outcome = await tenant.setMailbox(change.identity, mailboxChange);
    return { sent, warnings: outcome.warnings };
  } catch (error) {
    if (auditRefusalOf(error) !== 'already-audited' || !mailboxChange.addActions) throw error;
    const said = (error as ExchangeCommandError).exchangeMessage || (error as Error).message;
    const mailbox = await tenant.getMailbox(change.identity);
    if (!mailbox) throw new RemediationBlockedError(`The mailbox ${change.identity} no longer exists.`);
    const missing: Partial<Record<LogonType, string[]>> = {};
    for (const type of LOGON_TYPES) {
      const present = new Set(mailbox.auditActions[type].map((action) => action.toLowerCase()));
      const absent = (mailboxChange.addActions[type] ?? []).filter((action) => !present.has(action.toLowerCase()));
      if (absent.length > 0) missing[type] = absent;
    }
    const rest: MailboxAuditChange = { ...mailboxChange, addActions: missing };
    if (Object.keys(missing).length === 0) delete rest.addActions;
    if (Object.keys(rest).length === 0) return { sent, warnings: [said] };
    const retried = { call: 'Set-Mailbox', parameters: buildSetMailboxAuditParameters(change.identity, rest) };
    const outcome = await tenant.setMailbox(change.identity, rest);
    return { sent: retried, warnings: [said, ...outcome.warnings] };
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
 * The direct licence, checked again at the point of application: the user's licences are re-read
 * and the body worked out afresh. It is sent only if it is the body that was approved — so the
 * assignment can add Advanced Auditing and never switch on a plan a group disabled since.
 */
async function applyAssignment(tenant: RemediationTenant, change: AssignLicenceChange): Promise<AppliedChange> {
  const user = await tenant.getUser(change.userId);
  if (!user) throw new RemediationBlockedError(`Microsoft Graph has no user ${change.userId}; there is nobody to assign a licence to.`);
  const now = directAssignmentFor(user, await tenant.subscribedSkus());
  if (typeof now === 'string') throw new RemediationBlockedError(`Nothing was assigned: ${now}`);
  if (!sameAssignmentBody(now, change)) {
    throw new ApprovedChangeOutdatedError(
      `Nothing was assigned: ${user.userPrincipalName || change.userId}'s group licences changed since the change was approved. ` +
        `Approved: ${JSON.stringify(assignmentBody(change))}; it would now be: ${JSON.stringify(assignmentBody(now))}. ` +
        'The next planning run proposes the new body for approval.',
    );
  }
  const body = await tenant.assignLicence(change.userId, { skuId: change.skuId, disabledPlans: change.disabledPlans });
  return {
    sent: { call: `POST /users/${change.userId}/assignLicense`, parameters: body },
    warnings: [],
    directLicence: { userId: change.userId, skuId: change.skuId, skuPartNumber: change.skuPartNumber, disabledPlans: [...change.disabledPlans] },
  };
}
