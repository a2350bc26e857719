import { LOGON_TYPES } from '../domain/audit';
import { compilePolicy } from './compiled-policy';
import { fromViolations, notApplicable } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, premiumExemption } from './scope';
import type { MailboxRule, Violation } from './types';

export const MANAGED = 'Microsoft-managed (in DefaultAuditSet)';
export const CUSTOMISED = 'customised (not in DefaultAuditSet)';

const POLICY_CUSTOMISES_ALL = notApplicable(
  'the policy requires actions outside Microsoft\'s managed set for every logon type, so none can stay in DefaultAuditSet',
);

/**
 * One violation per logon type missing from DefaultAuditSet, with `expected` MANAGED and `actual`
 * CUSTOMISED. The values name only that logon type's state, so restoring another logon type does not
 * rewrite this finding.
 *
 * A logon type for which the policy itself requires actions outside Microsoft's managed set (the
 * extended preset, or `additional` actions such as SearchQueryInitiated) cannot be in DefaultAuditSet
 * once audit-actions-missing is satisfied; reporting it would be noise, and "fixing" it with
 * -DefaultAuditSet would undo audit-actions-missing's fix on the next night, round and round.
 */
export const defaultAuditSetCustomised: MailboxRule = {
  id: 'default-audit-set-customised',
  target: 'mailbox',
  evaluate(input) {
    const exemption = premiumExemption(input);
    if (exemption === MAILBOX_TYPE_NOT_IN_POLICY) return exemption;
    const lookups = compilePolicy(input.policy);
    const required = exemption ? lookups.requiredStandard : lookups.requiredPremium;
    let checked = 0;
    let violations: Violation[] | undefined;
    for (const logonType of LOGON_TYPES) {
      if (required[logonType].customisationRequired) continue;
      checked++;
      if (input.mailbox.defaultAuditSet.includes(logonType)) continue;
      (violations ??= []).push({ logonType, expected: MANAGED, actual: CUSTOMISED });
    }
    return checked === 0 ? POLICY_CUSTOMISES_ALL : fromViolations(violations);
  },
};
