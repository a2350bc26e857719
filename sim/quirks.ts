/**
 * Exchange's behaviours that vary from mailbox to mailbox for no reason a client can see. The
 * simulator makes each one deterministic per mailbox (seed + mailbox Guid), so tests can find a
 * mailbox of each kind by calling these functions.
 */
import { deriveSeed } from './prng';
import type { SimMailbox, SimulatedTenant } from './tenant';

/**
 * What `Set-Mailbox -Audit<Type> @{Add=…}` does when an added action is already in the list
 * (OfficeDocs-o365seccomp#385 and #306):
 * - 'error': HTTP 400, "The input operation(s) is/are already being audited." — nothing changes,
 *   not even the other parameters of the call;
 * - 'warning': success; the actions not yet present are added, and when nothing changed the
 *   answer carries the usual no-change warning in `@adminapi.warnings`.
 * About half the mailboxes answer each way.
 */
export type AlreadyAuditedResponse = 'error' | 'warning';

export function alreadyAuditedResponse(tenant: SimulatedTenant, mailbox: SimMailbox): AlreadyAuditedResponse {
  return (deriveSeed(tenant.seed, `already-audited:${mailbox.guid}`) & 1) === 1 ? 'error' : 'warning';
}
