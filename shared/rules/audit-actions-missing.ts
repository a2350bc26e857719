import { LOGON_TYPES } from '../domain/audit';
import { compilePolicy } from './compiled-policy';
import { fromViolations, sortedCopy } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, premiumExemption } from './scope';
import type { MailboxRule, Violation } from './types';

/**
 * One violation per logon type that lacks policy-required actions other than MailItemsAccessed
 * (which has its own rule). `expected` lists the missing actions, sorted; `actual` the current list,
 * sorted. Premium-only actions count only where MailItemsAccessed is required.
 */
export const auditActionsMissing: MailboxRule = {
  id: 'audit-actions-missing',
  target: 'mailbox',
  evaluate(input) {
    const exemption = premiumExemption(input);
    if (exemption === MAILBOX_TYPE_NOT_IN_POLICY) return exemption;
    const lookups = compilePolicy(input.policy);
    const required = exemption ? lookups.requiredStandard : lookups.requiredPremium;
    let violations: Violation[] | undefined;
    for (const logonType of LOGON_TYPES) {
      const current = input.mailbox.auditActions[logonType];
      let missing: string[] | undefined;
      for (const action of required[logonType].withoutMailItemsAccessed) {
        if (!current.includes(action)) (missing ??= []).push(action);
      }
      // `required` is sorted, so `missing` already is.
      if (missing) (violations ??= []).push({ logonType, expected: missing, actual: sortedCopy(current) });
    }
    return fromViolations(violations);
  },
};
