import { coverageFigure, formatCoverageCounts, formatCoverageHeadline } from '../rules/coverage';
import { APPROVAL_LINK_TTL_MS, parsePublicBaseUrl, signApprovalLinks } from '../approval/links';
import { ApprovalSigningKey } from '../approval/signing-key';
import type { Settings } from '../config/settings';
import type { RuleId } from '../domain/finding';
import { describeError } from '../errors';
import { redactSecrets } from '../errors/redact';
import type { Logger } from '../logging';
import { ApprovalRepository, type ApprovalRequest } from '../store/approvals';
import { openStoreFromSettings } from '../store/open';
import {
  buildDecisionCard,
  buildDigestCard,
  DIGEST_LIMITS,
  type DecisionCardInput,
  type DigestApproval,
  type DigestRemediation,
} from '../teams/cards';
import { compareApprovalPriority } from '../teams/card-parts';
import type { AdaptiveCard } from '../teams/card-types';
import {
  TeamsWebhookSender,
  WebhookRateLimiter,
  type TeamsWebhookSenderOptions,
} from '../teams/webhook';
import type { PlanningReport } from './remediation';
import { summariseApprovalRequest } from './approval-view';
import type { ScanResult } from './scan';

/**
 * What goes to the Teams channel: one digest after each stored scan, and a short follow-up after
 * each approval decision. Posting is a courtesy, never part of the work: every failure is logged
 * (with the webhook URL and the signing key scrubbed) and reported as an outcome, never thrown, so
 * a Teams outage cannot fail a scan or undo a decision.
 */

/** Where the dashboard lives, relative to PUBLIC_BASE_URL: the "and N more" links point here. */
export const DASHBOARD_PATH = '/api/dashboard';

export type NotifyOutcome =
  | { posted: true; status: number; bytes: number; attempts: number }
  | { posted: false; reason: 'not-configured' | 'failed'; error?: string };

export type TeamsSettings = Partial<Pick<Settings, 'TEAMS_WEBHOOK_URL' | 'APPROVAL_SIGNING_KEY' | 'PUBLIC_BASE_URL'>>;

/** Sender overrides; tests shorten the waits. The URL, logger and limiter are the notifier's own. */
export type SenderOverrides = Omit<Partial<TeamsWebhookSenderOptions>, 'webhookUrl' | 'logger' | 'rateLimiter'>;

export interface TeamsNotifierOptions {
  settings: TeamsSettings;
  sender?: SenderOverrides;
  clock?: () => Date;
}

/** The scan as the digest needs it: a ScanResult fits. */
export type DigestScan = Pick<ScanResult, 'run' | 'totals' | 'changes' | 'previousCoverage'>;

export interface ScanDigestInput {
  tenantId: string;
  scan: DigestScan;
  /** The planning run that followed the scan, when there was one (the nightly timer). */
  planning?: PlanningReport;
  /** Pending requests are read here, so requests from earlier nights still waiting are listed too. */
  approvals: Pick<ApprovalRepository, 'list'>;
}

export class TeamsNotifier {
  readonly #webhookUrl: string | undefined;
  readonly #signingKeyText: string | undefined;
  readonly #secrets: string[];
  private readonly publicBaseUrl: string | undefined;
  private readonly senderOverrides: SenderOverrides;
  private readonly clock: () => Date;
  /** One limiter per notifier: every card this process posts to the webhook counts against Teams' limits. */
  private readonly limiter: WebhookRateLimiter;

  constructor(options: TeamsNotifierOptions) {
    this.#webhookUrl = options.settings.TEAMS_WEBHOOK_URL?.trim() || undefined;
    this.#signingKeyText = options.settings.APPROVAL_SIGNING_KEY?.trim() || undefined;
    this.#secrets = secretsOf(this.#webhookUrl, this.#signingKeyText);
    this.publicBaseUrl = options.settings.PUBLIC_BASE_URL;
    this.senderOverrides = options.sender ?? {};
    this.clock = options.clock ?? (() => new Date());
    // Real time, not the injected clock: the limits are Teams' and Teams counts in real seconds.
    this.limiter = new WebhookRateLimiter();
  }

  /** False when TEAMS_WEBHOOK_URL is not set: nothing is posted, and that is a normal setup. */
  get configured(): boolean {
    return this.#webhookUrl !== undefined;
  }

  /** `${PUBLIC_BASE_URL}/api/dashboard`, when PUBLIC_BASE_URL is usable. */
  dashboardUrl(): string | undefined {
    const base = this.baseUrl();
    return base === undefined ? undefined : `${base}${DASHBOARD_PATH}`;
  }

  /**
   * The digest after a stored scan: counts per rule, what opened and resolved, what planning queued
   * for automatic fixing, and every pending approval request with signed Approve / Reject links.
   */
  async postScanDigest(input: ScanDigestInput, logger: Logger): Promise<NotifyOutcome> {
    const fields = { tenantId: input.tenantId, scanId: input.scan.run.scanId };
    if (!this.configured) {
      logger.info('TEAMS_WEBHOOK_URL is not set: no digest was posted to Teams.', fields);
      return { posted: false, reason: 'not-configured' };
    }
    try {
      const now = this.clock();
      const pending = (await input.approvals.list(input.tenantId, 'pending')).filter((request) => request.expiresAt.getTime() > now.getTime());
      const card = buildDigestCard({
        tenantId: input.tenantId,
        scanId: input.scan.run.scanId,
        scannedAt: input.scan.run.startedAt,
        countsByRule: input.scan.totals.findingsByRule,
        opened: input.scan.changes.opened,
        resolved: input.scan.changes.resolved,
        autoFixed: autoFixed(input.planning),
        approvals: this.approvalsWithLinks(pending, now, logger, fields),
        approvalsTotal: pending.length,
        ruleErrors: input.scan.totals.ruleErrors,
        ...(input.scan.totals.coverage ? { coverage: coverageForCard(input.scan) } : {}),
        ...this.dashboard(),
      });
      return await this.post(card, { ...fields, card: 'digest', pendingApprovals: pending.length }, logger);
    } catch (error) {
      return this.failed('Could not post the scan digest to Teams; the scan itself is recorded.', error, fields, logger);
    }
  }

  /** The follow-up after a decision: who decided what, and when. */
  async postDecision(input: Omit<DecisionCardInput, 'dashboardUrl'>, logger: Logger): Promise<NotifyOutcome> {
    const fields = { requestId: input.requestId, decision: input.decision };
    if (!this.configured) {
      logger.info('TEAMS_WEBHOOK_URL is not set: the decision was not posted to Teams.', fields);
      return { posted: false, reason: 'not-configured' };
    }
    try {
      const card = buildDecisionCard({ ...input, ...this.dashboard() });
      return await this.post(card, { ...fields, card: 'decision' }, logger);
    } catch (error) {
      return this.failed('Could not post the decision to Teams; the decision itself is recorded.', error, fields, logger);
    }
  }

  /** Text with the webhook URL (and its parts) and the signing key removed, and any query string dropped. */
  scrub(text: string): string {
    return redactSecrets(text, { known: this.#secrets, dropQueryStrings: true });
  }

  toJSON(): Record<string, unknown> {
    return { configured: this.configured };
  }

  private async post(card: AdaptiveCard, fields: Record<string, unknown>, logger: Logger): Promise<NotifyOutcome> {
    // A sender per post, so its log lines go to this invocation's logger; the limiter is shared.
    const sender = new TeamsWebhookSender({
      ...this.senderOverrides,
      webhookUrl: this.#webhookUrl ?? '',
      logger,
      rateLimiter: this.limiter,
    });
    const result = await sender.send(card, fields);
    return { posted: true, status: result.status, bytes: result.bytes, attempts: result.attempts };
  }

  private failed(message: string, error: unknown, fields: Record<string, unknown>, logger: Logger): NotifyOutcome {
    const text = this.scrub(describeError(error));
    logger.error(message, { ...fields, error: text });
    return { posted: false, reason: 'failed', error: text };
  }

  private dashboard(): { dashboardUrl?: string } {
    const url = this.dashboardUrl();
    return url === undefined ? {} : { dashboardUrl: url };
  }

  private baseUrl(): string | undefined {
    if (this.publicBaseUrl === undefined) return undefined;
    try {
      return parsePublicBaseUrl(this.publicBaseUrl);
    } catch {
      return undefined;
    }
  }

  /**
   * The requests the card will show (most severe first, as many as it shows), each with signed
   * links. Without APPROVAL_SIGNING_KEY or PUBLIC_BASE_URL no link can be made: the card then counts
   * the requests, and the command line (`audit-warden approve`) still decides them.
   */
  private approvalsWithLinks(pending: ApprovalRequest[], now: Date, logger: Logger, fields: Record<string, unknown>): DigestApproval[] {
    if (pending.length === 0) return [];
    const base = this.baseUrl();
    let key: ApprovalSigningKey;
    try {
      if (base === undefined) throw new Error('PUBLIC_BASE_URL is not set or not a usable https URL.');
      key = ApprovalSigningKey.parse(this.#signingKeyText);
    } catch (error) {
      logger.warn('Approval requests are listed on the digest without Approve / Reject links.', {
        ...fields,
        why: this.scrub(describeError(error)),
      });
      return [];
    }
    const linkLimit = new Date(now.getTime() + APPROVAL_LINK_TTL_MS);
    return [...pending]
      .sort((a, b) => compareApprovalPriority(ruleOf(a), ruleOf(b)) || a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, DIGEST_LIMITS.approvals)
      .map((request) => {
        // A link never outlives its request: past the request's expiry it could only be refused.
        const expiresAt = new Date(Math.min(request.expiresAt.getTime(), linkLimit.getTime()));
        const links = signApprovalLinks(request.requestId, key, base, { now, expiresAt });
        const summary = summariseApprovalRequest(request);
        return {
          requestId: request.requestId,
          ruleId: summary.ruleId,
          objectUpn: summary.objectUpn,
          change: summary.plans > 1 ? `${summary.plans} changes:\n${summary.change}` : summary.change,
          approveUrl: links.approveUrl,
          rejectUrl: links.rejectUrl,
          expiresAt,
        };
      });
  }
}

/**
 * At digest time the automatic changes are queued, not yet applied (the workers apply and verify
 * them minutes later), so this counts what planning put on the queue.
 */
function autoFixed(planning: PlanningReport | undefined): { count: number; examples: DigestRemediation[] } {
  if (!planning || planning.paused || planning.whatIf) return { count: 0, examples: [] };
  const examples = planning.changes
    .filter((change) => change.mode === 'auto')
    .slice(0, DIGEST_LIMITS.examples)
    .map(({ plan }) => ({ ruleId: plan.ruleId, objectUpn: plan.userPrincipalName, change: plan.description }));
  return { count: planning.enqueued, examples };
}

function ruleOf(request: ApprovalRequest): RuleId | undefined {
  return request.plans[0]?.ruleId ?? request.ruleIds[0];
}

/** The webhook URL in every spelling an error could echo, and the signing key as configured. */
function secretsOf(webhookUrl: string | undefined, signingKey: string | undefined): string[] {
  const secrets: string[] = [];
  if (webhookUrl) {
    secrets.push(webhookUrl);
    try {
      const url = new URL(webhookUrl);
      secrets.push(url.href, `${url.origin}${url.pathname}`, url.pathname, url.search.slice(1));
      for (const [, value] of url.searchParams) secrets.push(value, encodeURIComponent(value));
    } catch {
      // Not a URL: the raw text above is all there is to hide.
    }
  }
  if (signingKey) secrets.push(signingKey);
  return [...new Set(secrets.filter((secret) => secret.length >= 8 && secret !== '/'))].sort((a, b) => b.length - a.length);
}

function coverageForCard(scan: DigestScan): { headline: string; counts: string; allRecorded: boolean } {
  const figure = coverageFigure(scan.totals.coverage, scan.previousCoverage);
  return { headline: formatCoverageHeadline(figure), counts: formatCoverageCounts(figure.counts), allRecorded: figure.counts['not-recorded'] === 0 };
}

/** How `audit-warden scan` posts its digest (after a stored scan, unless --no-notify). */
export type ScanNotifier = (settings: Settings, result: ScanResult, logger: Logger) => Promise<NotifyOutcome>;

/**
 * The command line's notifier: the approvals table of the account AzureWebJobsStorage names
 * (tests pass their own), opened only when there is a webhook to post to.
 */
export function scanDigestNotifier(
  openApprovals: (settings: Settings) => Pick<ApprovalRepository, 'list'> = (settings) => new ApprovalRepository(openStoreFromSettings(settings).tables),
  options: Omit<TeamsNotifierOptions, 'settings'> = {},
): ScanNotifier {
  return async (settings, result, logger) => {
    const notifier = new TeamsNotifier({ ...options, settings });
    const approvals = notifier.configured ? openApprovals(settings) : { list: async () => [] };
    return notifier.postScanDigest({ tenantId: settings.AZURE_TENANT_ID, scan: result, approvals }, logger);
  };
}

/** How the nightly timer posts its digest; the outcome is informational (it never throws for Teams). */
export type ScanDigestPoster = (scan: DigestScan, planning: PlanningReport | undefined, logger: Logger) => Promise<NotifyOutcome>;

/**
 * The timer's poster over an environment that holds the settings and the approvals table (the
 * remediation environment). One notifier per poster, so its rate limiter spans the process's nights.
 */
export function environmentDigestPoster(
  open: () => Promise<{ settings: Settings; approvals: Pick<ApprovalRepository, 'list'> }>,
  options: Omit<TeamsNotifierOptions, 'settings'> = {},
): ScanDigestPoster {
  let notifier: TeamsNotifier | undefined;
  return async (scan, planning, logger) => {
    const environment = await open();
    notifier ??= new TeamsNotifier({ ...options, settings: environment.settings });
    return notifier.postScanDigest(
      { tenantId: environment.settings.AZURE_TENANT_ID, scan, ...(planning ? { planning } : {}), approvals: environment.approvals },
      logger,
    );
  };
}
