import { LOGON_TYPES, MAIL_ITEMS_ACCESSED } from '../domain/audit';
import { fromViolations, sortedCopy } from './outcomes';
import { premiumExemption } from './scope';
import type { MailboxRule, Violation } from './types';

/**
 * One violation per logon type whose list lacks MailItemsAccessed. `expected` is the missing action
 * as a one-element list (the same shape as audit-actions-missing: "what must be added"), `actual`
 * the logon type's current list, sorted.
 */
export const mailItemsAccessedMissing: MailboxRule = {
  id: 'mailitemsaccessed-missing',
  target: 'mailbox',
  evaluate(input) {
    const exemption = premiumExemption(input);
    if (exemption) return exemption;
    let violations: Violation[] | undefined;
    for (const logonType of LOGON_TYPES) {
      const current = input.mailbox.auditActions[logonType];
      if (current.includes(MAIL_ITEMS_ACCESSED)) continue;
      (violations ??= []).push({ logonType, expected: [MAIL_ITEMS_ACCESSED], actual: sortedCopy(current) });
    }
    return fromViolations(violations);
  },
};
