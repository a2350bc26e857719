import { findingKey } from '../../domain/finding';
import type { SubscribedSku } from '../../graph';
import type { LicenceContext, PlanningContext } from '../../remediation/plan';
import type { StoredFinding, StoredScanRun } from '../../store/model';
import type { RemediationServices } from './services';

/**
 * How long a reprocess made for an earlier episode of the licence finding still counts as step 1
 * done: the finding may have been resolved by the verified reprocess and opened again by the next
 * refusal. Older than this, the drift is treated as new and the light step is tried again first.
 */
const REPROCESS_MEMORY_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Reads what the licence fix's planner needs, per finding: the step already taken (from the
 * remediation records), whether a scan since saw the finding (from the scan runs), and — only
 * when step 2 is due — the user's licences and the SKU catalogue from Graph. One per planning run:
 * the catalogue and the last scan are read once.
 */
export class LicenceContextReader {
  private skus: Promise<readonly SubscribedSku[]> | undefined;
  private lastScan: Promise<StoredScanRun | undefined> | undefined;

  constructor(
    private readonly services: Pick<RemediationServices, 'tenantId' | 'store' | 'remediations' | 'licences'>,
    private readonly now: Date,
  ) {}

  async contextFor(finding: StoredFinding): Promise<PlanningContext> {
    const directory = this.services.licences;
    if (!directory) return {};
    const records = await this.services.remediations.forFinding(this.services.tenantId, finding.objectId, findingKey(finding));
    const reprocess = records
      .filter((record) => record.change.kind === 'reprocess-licence' && record.appliedAt !== undefined)
      .filter((record) => record.episode === finding.episode || this.now.getTime() - record.appliedAt!.getTime() < REPROCESS_MEMORY_MS)
      .sort((a, b) => b.appliedAt!.getTime() - a.appliedAt!.getTime())[0];
    const context: LicenceContext = { skus: [], reportedAfterReprocess: false };
    if (!reprocess) return { licence: context };
    context.reprocess = { appliedAt: reprocess.appliedAt! };
    this.lastScan ??= this.services.store.scans.lastCompleted(this.services.tenantId);
    const scan = await this.lastScan;
    // The scan read the tenant after the reprocess, and the finding was already open when it ran
    // (it is still active, so that scan kept it): Exchange still refuses.
    context.reportedAfterReprocess = Boolean(
      scan && scan.startedAt.getTime() > reprocess.appliedAt!.getTime() && finding.firstSeen.getTime() <= scan.startedAt.getTime(),
    );
    if (!context.reportedAfterReprocess) return { licence: context };
    this.skus ??= directory.subscribedSkus();
    const [user, skus] = await Promise.all([directory.getUser(finding.objectId), this.skus]);
    return { licence: { ...context, skus, ...(user ? { user } : {}) } };
  }
}
