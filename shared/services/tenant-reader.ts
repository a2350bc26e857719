import type { UserLicenceState } from '../domain/audit';
import {
  getOrganizationConfig,
  streamBypassAssociations,
  streamMailboxes,
  type ExchangeCommandRunner,
} from '../exchange';
import { getSkusWithAdvancedAuditing, resolveAdvancedAuditing, streamLicensedUsers, type GraphClient } from '../graph';
import type { ApiEvent } from '../http';
import type { TenantReader } from './scan';

/** Counts what the clients report, for the scan's summary and progress line. */
export class ApiUsageCounter {
  calls = 0;
  throttled = 0;
  readonly listener = (event: ApiEvent): void => {
    if (event.type === 'call') this.calls += 1;
    else if (event.type === 'throttled') this.throttled += 1;
  };
}

/** The scan's reads, over the production Graph and Exchange Online clients. */
export function createTenantReader(graph: GraphClient, exchange: ExchangeCommandRunner, usage: ApiUsageCounter): TenantReader {
  return {
    organization: () => getOrganizationConfig(exchange),
    async *licensedUsers(onTotal?: (total: number) => void): AsyncIterable<UserLicenceState> {
      const skusWithPlan = await getSkusWithAdvancedAuditing(graph);
      for await (const user of streamLicensedUsers(graph, { pageSize: 999, onCount: onTotal })) {
        yield resolveAdvancedAuditing(user, skusWithPlan);
      }
    },
    bypassAssociations: () => streamBypassAssociations(exchange),
    mailboxes: (recipientTypeDetails) => streamMailboxes(exchange, { recipientTypeDetails }),
    apiUsage: () => ({ calls: usage.calls, throttled: usage.throttled }),
  };
}
