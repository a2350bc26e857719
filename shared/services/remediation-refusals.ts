import { z } from 'zod';
import type { RefusalState } from '../remediation/refusal';
import type { AuditStore } from '../store/open';

/**
 * Reads a mailbox's recorded MailItemsAccessed refusal with what bears on whether it still holds
 * (remediation/refusal.ts): the capabilities the scan stored before the refusal and now. Only
 * mailboxes with a refusal cost more than the one point read.
 */
export async function readRefusal(store: Pick<AuditStore, 'mailboxes'>, tenantId: string, objectId: string): Promise<RefusalState | undefined> {
  const current = await store.mailboxes.current(tenantId, objectId);
  if (!current?.miaRefusedAt) return undefined;
  const [then, now] = await Promise.all([
    store.mailboxes.configurationAt(tenantId, objectId, new Date(current.miaRefusedAt)),
    store.mailboxes.latest(tenantId, objectId),
  ]);
  const capabilitiesAtRefusal = capabilitiesOf(then?.configuration);
  const capabilitiesNow = capabilitiesOf(now?.configuration);
  return {
    miaRefusedAt: current.miaRefusedAt,
    ...(current.miaRefusedReason ? { miaRefusedReason: current.miaRefusedReason } : {}),
    ...(capabilitiesAtRefusal ? { capabilitiesAtRefusal } : {}),
    ...(capabilitiesNow ? { capabilitiesNow } : {}),
  };
}

// A stored snapshot is our own JSON, but of whatever version wrote it: read only the one field, loosely.
const storedCapabilities = z.object({ persistedCapabilities: z.array(z.string()) }).loose();

function capabilitiesOf(configuration: unknown): string[] | undefined {
  const parsed = storedCapabilities.safeParse(configuration);
  return parsed.success ? parsed.data.persistedCapabilities : undefined;
}

/** One read per mailbox per planning run or worker, however many of its findings ask. */
export class RefusalCache {
  private readonly cache = new Map<string, Promise<RefusalState | undefined>>();
  constructor(
    private readonly store: Pick<AuditStore, 'mailboxes'>,
    private readonly tenantId: string,
  ) {}

  get(objectId: string): Promise<RefusalState | undefined> {
    const key = objectId.toLowerCase();
    let value = this.cache.get(key);
    if (!value) {
      value = readRefusal(this.store, this.tenantId, objectId);
      this.cache.set(key, value);
      value.catch(() => this.cache.delete(key));
    }
    return value;
  }
}
