import type { PolicyException } from '../../shared/config/policy';
import type { Finding } from '../../shared/domain/finding';
import type { FindingState, Transition, TransitionContext } from '../../shared/lifecycle';

/** One fixture per noun of the lifecycle: a finding as a scan reports it, the context of a scan, an exception. */
export const TENANT = '8f0e3f6a-1d2b-4c5d-9e8f-0a1b2c3d4e5f';
export const MAILBOX = '00000000-0000-4000-8000-000000000001';

export function day(n: number): Date {
  return new Date(Date.UTC(2026, 0, 1) + n * 86_400_000);
}

export function aFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    ruleId: 'mailitemsaccessed-missing',
    objectType: 'mailbox',
    objectId: MAILBOX,
    userPrincipalName: 'adele@contoso.example',
    logonType: 'Owner',
    severity: 'high',
    expected: 'MailItemsAccessed',
    actual: null,
    ...overrides,
  };
}

export function aScan(at: Date): TransitionContext {
  return { tenantId: TENANT, at, actor: `scan:${at.toISOString()}`, scanId: at.toISOString() };
}

export function anException(overrides: Partial<PolicyException> = {}): PolicyException {
  return { object: MAILBOX, rule: 'mailitemsaccessed-missing', reason: 'legal hold mailbox', expires: '2099-01-01', ...overrides };
}

/** The state a written transition leaves (what the store would read back). */
export function after(transition: Transition | undefined): FindingState {
  if (!transition) throw new Error('expected a transition');
  return transition.next;
}
