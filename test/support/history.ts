import type { ObservedObject } from '../../shared/domain/ports';
import { HistoryService } from '../../shared/services/history';
import type { AuditStore } from '../../shared/store/open';
import { day, observed } from './fixtures/scan';
import { OTHER_TENANT, TENANT } from './fixtures/tenant';
import { newStore, scan } from './store';

/**
 * A small recorded history shared by the query tests (services, HTTP functions, CLI):
 *
 * - day 1 (2 Jan 2026): 1 audit off · 2 MailItemsAccessed missing for Owner and Admin · 3 fine ·
 *   4 retention 90 days · 6 Delegate missing, UPN with a quote and a comma · 7 retention excepted
 *   with a reason that is a spreadsheet formula
 * - day 40 (10 Feb): 1 fixed · 3 audit off · 4 deleted · the rest unchanged
 * - day 45 (15 Feb): unchanged
 * Another tenant in the same tables holds look-alike drift that no query may return.
 */
export const QUOTED_UPN = 'o"brien,x@contoso.example';
export const FORMULA_REASON = '=HYPERLINK("http://evil.example","click")';

export function nightOne(): ObservedObject[] {
  const seven = observed({ index: 7, ageLimitDays: 30 }, ['mailbox-audit-log-age-short']);
  seven.excepted = seven.excepted.map((entry) => ({ ...entry, exception: { ...entry.exception, reason: FORMULA_REASON } }));
  return [
    observed({ index: 1, auditEnabled: false }),
    observed({ index: 2, missing: ['Owner', 'Admin'] }),
    observed({ index: 3 }),
    observed({ index: 4, ageLimitDays: 90 }),
    observed({ index: 6, missing: ['Delegate'], upn: QUOTED_UPN }),
    seven,
  ];
}

export function nightTwo(): ObservedObject[] {
  const [, two, , , six, seven] = nightOne();
  return [observed({ index: 1 }), two!, observed({ index: 3, auditEnabled: false }), six!, seven!];
}

export async function recordedHistory(): Promise<{ store: AuditStore; history: HistoryService; other: HistoryService }> {
  const store = newStore();
  await scan(store, nightOne(), day(1));
  await scan(store, nightTwo(), day(40));
  await scan(store, nightTwo(), day(45));
  await scan(store, [observed({ index: 1, auditEnabled: false }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3, ageLimitDays: 1 })], day(44), {
    tenantId: OTHER_TENANT,
  });
  const clock = () => day(46);
  return { store, history: new HistoryService(store, TENANT, clock), other: new HistoryService(store, OTHER_TENANT, clock) };
}

/** Injection attempts: each would widen a naively concatenated filter to every row. */
export const INJECTIONS = [
  "x' or PartitionKey ne '",
  "' or '1' eq '1",
  "x') or (RowKey ne '",
  'x" or PartitionKey ne "',
  '%27 or PartitionKey ne %27',
];
