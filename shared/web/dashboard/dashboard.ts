import { PrincipalError } from '../../approval/errors';
import { APPROVAL_LINK_TTL_MS, parsePublicBaseUrl, signApprovalLinks } from '../../approval/links';
import { isAllowedApprover, parseApprovers, parseClientPrincipal, type ApproverList, type HeaderSource } from '../../approval/principal';
import { ApprovalSigningKey } from '../../approval/signing-key';
import { describeError, isServiceError } from '../../errors';
import type { Logger } from '../../logging';
import { summariseApprovalRequest } from '../../services/approval-view';
import { DEFAULT_EVENT_WINDOW_DAYS, type HistoryService } from '../../services/history';
import type { ApprovalRepository } from '../../store/approvals';
import { DASHBOARD_PAGE_HEADERS, renderDashboard, renderDashboardMessage, type DashboardApproval } from './page';

/**
 * The dashboard use case: who may look, what to read, the page. The drift history says which
 * mailboxes an intruder could read without a trace, so the page is for approvers only: behind App
 * Service Authentication the principal must be on APPROVERS. `audit-warden serve` listens on
 * loopback only and is run by someone who already holds the storage credentials, so it serves the
 * page without a principal (`local`).
 */
export type DashboardAccess = { kind: 'approvers'; approvers: ApproverList | string | undefined; trustPrincipalHeaders: boolean } | { kind: 'local' };

export interface DashboardOptions {
  history: Pick<HistoryService, 'tenantId' | 'findings' | 'events' | 'scans'>;
  access: DashboardAccess;
  /** Pending requests to list; with a signing key and PUBLIC_BASE_URL, each gets Approve / Reject links. */
  approvals?: Pick<ApprovalRepository, 'list'>;
  signingKey?: ApprovalSigningKey | string;
  publicBaseUrl?: string;
  clock?: () => Date;
}

export interface DashboardResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Rows per table: a page a person reads, not an export (the query API pages through everything). */
export const DASHBOARD_ROWS = { findings: 50, events: 50, scans: 10 } as const;

export class Dashboard {
  private readonly approvers: ApproverList | undefined;
  private readonly clock: () => Date;

  constructor(private readonly options: DashboardOptions) {
    this.approvers = options.access.kind === 'approvers' ? resolveApprovers(options.access.approvers) : undefined;
    this.clock = options.clock ?? (() => new Date());
  }

  async handle(request: { headers: HeaderSource }, logger: Logger): Promise<DashboardResponse> {
    const denied = this.authorise(request.headers);
    if (denied) {
      logger.warn('Dashboard request refused.', { status: denied.status, outcome: denied.outcome });
      return { status: denied.status, headers: { ...DASHBOARD_PAGE_HEADERS }, body: renderDashboardMessage(denied.title, denied.message) };
    }
    try {
      return { status: 200, headers: { ...DASHBOARD_PAGE_HEADERS }, body: renderDashboard(await this.load(logger)) };
    } catch (error) {
      const unavailable = isServiceError(error) && error.service === 'storage';
      logger.error('The dashboard could not be built.', { error: describeError(error) });
      return {
        status: unavailable ? 503 : 500,
        headers: { ...DASHBOARD_PAGE_HEADERS },
        body: renderDashboardMessage('Unavailable', unavailable ? 'The drift history store is unavailable; try again in a minute.' : 'Unexpected error; see the app log.'),
      };
    }
  }

  private authorise(headers: HeaderSource): { status: number; outcome: string; title: string; message: string } | undefined {
    const access = this.options.access;
    if (access.kind === 'local') return undefined;
    const signIn = { status: 401, title: 'Sign-in required', message: 'The dashboard needs a Microsoft Entra ID sign-in.' };
    if (!access.trustPrincipalHeaders) return { ...signIn, outcome: 'principal-headers-not-trusted' };
    try {
      const principal = parseClientPrincipal(headers);
      if (isAllowedApprover(principal, this.approvers ?? { upns: new Set(), objectIds: new Set() })) return undefined;
      return { status: 403, outcome: 'not-an-approver', title: 'Not an approver', message: 'The dashboard is for the people named in APPROVERS.' };
    } catch (error) {
      if (error instanceof PrincipalError) return { ...signIn, outcome: `principal-${error.reason}` };
      throw error;
    }
  }

  private async load(logger: Logger) {
    const { history } = this.options;
    const now = this.clock();
    const [findings, events, scans, approvals] = await Promise.all([
      history.findings({ status: 'active', pageSize: DASHBOARD_ROWS.findings }),
      history.events({ pageSize: DASHBOARD_ROWS.events }),
      history.scans({ pageSize: DASHBOARD_ROWS.scans }),
      this.pendingApprovals(now, logger),
    ]);
    return {
      tenantId: history.tenantId,
      generatedAt: now,
      ...withLastCompleted(scans.items),
      findings: { items: findings.items, more: findings.continuationToken !== undefined },
      events: { items: events.items, more: events.continuationToken !== undefined, days: DEFAULT_EVENT_WINDOW_DAYS },
      scans: scans.items,
      approvals,
    };
  }

  private async pendingApprovals(now: Date, logger: Logger): Promise<DashboardApproval[]> {
    if (!this.options.approvals) return [];
    const pending = (await this.options.approvals.list(this.options.history.tenantId, 'pending')).filter(
      (request) => request.expiresAt.getTime() > now.getTime(),
    );
    const signer = this.signer(logger);
    return pending.map((request) => {
      const summary = summariseApprovalRequest(request);
      const expiresAt = new Date(Math.min(request.expiresAt.getTime(), now.getTime() + APPROVAL_LINK_TTL_MS));
      const links = signer ? signApprovalLinks(request.requestId, signer.key, signer.base, { now, expiresAt }) : undefined;
      return {
        requestId: request.requestId,
        ruleId: summary.ruleId,
        objectUpn: summary.objectUpn,
        change: summary.change,
        createdAt: request.createdAt,
        expiresAt: request.expiresAt,
        ...(links ? { approveUrl: links.approveUrl, rejectUrl: links.rejectUrl } : {}),
      };
    });
  }

  private signer(logger: Logger): { key: ApprovalSigningKey; base: string } | undefined {
    if (this.options.signingKey === undefined || this.options.publicBaseUrl === undefined) return undefined;
    try {
      const key = this.options.signingKey instanceof ApprovalSigningKey ? this.options.signingKey : ApprovalSigningKey.parse(this.options.signingKey);
      return { key, base: parsePublicBaseUrl(this.options.publicBaseUrl) };
    } catch (error) {
      // Settings messages name the setting, never the value.
      logger.warn('Approval requests are listed without links.', { why: describeError(error) });
      return undefined;
    }
  }
}

function withLastCompleted(scans: Awaited<ReturnType<HistoryService['scans']>>['items']) {
  const completed = scans.filter((scan) => scan.status === 'completed');
  const [last, previous] = completed;
  return last ? { lastCompletedScan: last, ...(previous ? { previousCompletedScan: previous } : {}) } : {};
}

/** A bad APPROVERS value admits nobody here; the approval endpoint reports it. */
function resolveApprovers(value: ApproverList | string | undefined): ApproverList {
  if (typeof value === 'object') return value;
  try {
    return parseApprovers(value);
  } catch {
    return { upns: new Set(), objectIds: new Set() };
  }
}
