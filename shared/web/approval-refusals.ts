import type { ApprovalDecision, ApprovalFormTokenFailure, ApprovalTokenFailure } from '../approval/links';
import type { ApprovalResultPage } from '../approval/page';
import type { ApprovalPrincipal } from '../approval/principal';
import type { ApprovalRequest } from '../store/approvals';

/**
 * Why an approval request cannot go ahead: the page the approver sees and the outcome the log
 * names. Every refusal is decided before the flow's first write, so a refused request changes nothing.
 */
export type Refusal = { page: ApprovalResultPage; outcome: string };

export function linkRefusal(reason: ApprovalTokenFailure): Refusal {
  if (reason === 'expired') return { page: { kind: 'expired' }, outcome: 'link-expired' };
  return { page: { kind: 'invalid-link', reason }, outcome: `link-${reason}` };
}

export function formRefusal(reason: ApprovalFormTokenFailure): Refusal {
  if (reason === 'expired') return { page: { kind: 'form-expired' }, outcome: 'form-expired' };
  return { page: { kind: 'invalid-link', reason }, outcome: `form-${reason}` };
}

export function forbidden(principal: ApprovalPrincipal): Refusal {
  return { page: { kind: 'forbidden', principalName: principal.name }, outcome: 'not-an-approver' };
}

/** Why a stored request cannot be decided now, if it cannot: missing, decided, or expired. */
export function stateRefusal(request: ApprovalRequest | undefined, now: Date): Refusal | undefined {
  if (!request) return { page: { kind: 'not-found' }, outcome: 'no-such-request' };
  if (request.status === 'expired' || (request.status === 'pending' && request.expiresAt.getTime() <= now.getTime())) {
    return { page: { kind: 'expired', expiredAt: request.expiresAt }, outcome: 'request-expired' };
  }
  if (request.status === 'approved' || request.status === 'rejected') {
    const decision: ApprovalDecision = request.status === 'approved' ? 'approve' : 'reject';
    return {
      page: {
        kind: 'already-decided',
        decision,
        ...(request.decidedBy ? { decidedBy: request.decidedBy } : {}),
        ...(request.decidedAt ? { decidedAt: request.decidedAt } : {}),
      },
      outcome: 'already-decided',
    };
  }
  return undefined;
}
