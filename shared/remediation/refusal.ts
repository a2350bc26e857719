import { LOGON_TYPES, MAIL_ITEMS_ACCESSED } from '../domain/audit';
import type { RuleId } from '../domain/finding';
import type { RemediationChange } from './plan';

/**
 * Exchange's licence refusal, remembered (REFERENCE.md §0, §8): "Auditing of MailItemsAccessed
 * event is only available for users with appropriate license". Exchange may refuse MailItemsAccessed
 * — and, under the pre-2024 licence model, Send — on a mailbox it sees no suitable licence for.
 * Sending the same addition again changes nothing until something about the mailbox changes, so a
 * refusal is recorded on the mailbox (store/mailboxes' miaRefusedAt) and the change ends blocked,
 * once: it is not sent again, and does not spend the blast radius, while the refusal holds.
 */

/** Finding metadata `blockedBy` of a finding blocked by this refusal (the planner retries those when the licence changes). */
export const BLOCKED_BY_LICENCE = 'licence-refusal';

/** Actions Exchange has been seen to refuse for want of a licence. */
export const LICENCE_GATED_ACTIONS: ReadonlySet<string> = new Set([MAIL_ITEMS_ACCESSED.toLowerCase(), 'send']);

/** True when the change adds an action Exchange may refuse for want of a licence. */
export function addsLicenceGatedAction(change: RemediationChange): boolean {
  if (change.kind !== 'set-mailbox' || !change.addActions) return false;
  return LOGON_TYPES.some((type) => (change.addActions?.[type] ?? []).some((action) => LICENCE_GATED_ACTIONS.has(action.toLowerCase())));
}

/** True when the change adds MailItemsAccessed: Exchange accepting it means the mailbox's refusal no longer holds. */
export function addsMailItemsAccessed(change: RemediationChange): boolean {
  if (change.kind !== 'set-mailbox' || !change.addActions) return false;
  return Object.values(change.addActions).some((actions) => actions?.some((action) => action.toLowerCase() === MAIL_ITEMS_ACCESSED.toLowerCase()));
}

/** True when a blocked finding was blocked by this refusal, so a licence change may unblock it. */
export function blockedByLicenceRefusal(finding: { ruleId: RuleId; metadata: Readonly<Record<string, unknown>> }): boolean {
  // Findings blocked before the metadata existed: the MailItemsAccessed ones were licence refusals.
  return finding.metadata.blockedBy === BLOCKED_BY_LICENCE || finding.ruleId === 'mailitemsaccessed-missing';
}

/** What the store knows about a mailbox's refusal. */
export interface RefusalState {
  miaRefusedAt: string;
  miaRefusedReason?: string;
  /**
   * Exchange's PersistedCapabilities as the scan last stored them before the refusal and now; undefined
   * where no stored snapshot says. Exchange's view of the mailbox's licences (M365Auditing arrives
   * with Audit (Premium)), which is what decides whether it accepts the action.
   */
  capabilitiesAtRefusal?: readonly string[];
  capabilitiesNow?: readonly string[];
}

/**
 * Whether a recorded refusal still holds: nothing that bears on it changed since. Our own fixes of
 * other settings on the same mailbox (AuditLogAgeLimit, AuditEnabled) do not count; a change in the
 * capabilities Exchange shows for the mailbox (a licence it now applies) does. Clearing the refusal
 * (a licence fix verified, a reprocess, Exchange accepting the action) is the other way to retry.
 */
export function refusalHolds(state: RefusalState | undefined): boolean {
  if (!state?.miaRefusedAt) return false;
  const { capabilitiesAtRefusal: then, capabilitiesNow: now } = state;
  if (!then || !now) return true;
  const key = (list: readonly string[]) => [...new Set(list.map((item) => item.toLowerCase()))].sort().join(',');
  return key(then) === key(now);
}
