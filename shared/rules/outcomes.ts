import type { RuleOutcome, Violation } from './types';

// Shared, frozen outcomes: a compliant or out-of-scope mailbox costs no allocation.
export const COMPLIANT: RuleOutcome = Object.freeze({ status: 'compliant' });

export function notApplicable(reason: string): RuleOutcome {
  return Object.freeze({ status: 'not-applicable', reason });
}

/** Non-compliant when at least one violation was collected, compliant otherwise. */
export function fromViolations(violations: Violation[] | undefined): RuleOutcome {
  return violations && violations.length > 0 ? { status: 'non-compliant', violations } : COMPLIANT;
}

/** Exchange returns lists in no promised order; a sorted copy keeps `actual` stable between scans. */
export function sortedCopy(values: readonly string[]): string[] {
  return [...values].sort();
}
