import { COMPLIANT } from './outcomes';
import type { BypassRule } from './types';

export const auditBypassEnabled: BypassRule = {
  id: 'audit-bypass-enabled',
  target: 'bypass-association',
  evaluate({ association }) {
    if (!association.auditBypassEnabled) return COMPLIANT;
    return { status: 'non-compliant', violations: [{ expected: false, actual: true }] };
  },
};
