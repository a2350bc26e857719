import { PrincipalError } from '../approval/errors';
import { escapeHtml } from '../approval/html';
import {
  APPROVAL_LINK_QUERY,
  approvalPath,
  approvalRequestIdSchema,
  issueApprovalFormToken,
  verifyApprovalFormToken,
  verifyApprovalToken,
} from '../approval/links';
import {
  APPROVAL_PAGE_HEADERS,
  parseApprovalForm,
  renderConfirmationPage,
  renderResultPage,
  type ApprovalFormSubmission,
  type ApprovalResultPage,
} from '../approval/page';
import {
  isAllowedApprover,
  parseApprovers,
  parseClientPrincipal,
  type ApprovalPrincipal,
  type ApproverList,
  type HeaderSource,
} from '../approval/principal';
import { toSigningKey, type ApprovalSigningKey } from '../approval/signing-key';
import type { Settings } from '../config/settings';
import { describeError, isServiceError, ValidationError } from '../errors';
import type { Logger } from '../logging';
import { ApprovalStateError, type ApprovalRequest } from '../store/approvals';
import { approvalChangeView } from '../services/approval-view';
import { forbidden, formRefusal, linkRefusal, stateRefusal, type Refusal } from './approval-refusals';
import { decideApproval, type DecisionReport, type RemediationServices } from '../services/remediation';
import type { TeamsNotifier } from '../services/teams-digest';

/**
 * The approval endpoint without the Functions runtime: method, route id, query, headers and body in;
 * status, headers and an HTML page out. functions/approval-http.ts (Azure) and `audit-warden serve`
 * (local) are adapters over it, so both run exactly this flow.
 *
 * GET verifies the signed link and shows what exactly would change, with an anti-forgery form token
 * bound to the signed-in principal. It writes nothing: Safe Links and other scanners fetch every GET.
 * POST verifies the link again, the form token against the same principal, and the approver against
 * APPROVERS, and only then decides, once (the approvals table's ETag): approve queues the
 * remediation, reject records the reason; both are drift events naming who and when. Every refusal
 * happens before the first write, so a refused request changes nothing.
 *
 * Identity comes from the App Service authentication (Easy Auth) headers. They prove anything only
 * behind Easy Auth, which strips client-sent copies; `trustPrincipalHeaders` says whether this
 * deployment is behind it (Azure: yes; `audit-warden serve`: only with --trust-principal-headers).
 * They are read with parseClientPrincipal rather than @azure/functions' `request.user`, which throws
 * on incomplete headers and does not check that the four headers agree about who is signed in.
 */

/** A confirmation form is three tokens and a reason; anything much larger is not from our page. */
export const APPROVAL_FORM_MAX_BYTES = 16 * 1024;

export interface ApprovalHttpRequest {
  method: string;
  /** The `{requestId}` route parameter, unvalidated. */
  requestId: string | undefined;
  query: URLSearchParams;
  headers: HeaderSource & { get(name: string): string | null };
  /** The POST body as text. */
  body?: string;
  /** Set by an adapter that did not read a body declared larger than APPROVAL_FORM_MAX_BYTES. */
  oversized?: boolean;
}

export interface ApprovalHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ApprovalFlowOptions {
  /** approve / reject run with these (their logger is replaced by each request's). */
  services: RemediationServices;
  /** APPROVAL_SIGNING_KEY: required; the flow cannot verify a link without it. */
  signingKey: ApprovalSigningKey | string | undefined;
  /** APPROVERS: UPNs and object ids. Empty allows nobody, so requests wait (the safe failure). */
  approvers: ApproverList | string | undefined;
  /** True only behind App Service Authentication (see the module comment). */
  trustPrincipalHeaders: boolean;
  /** The follow-up card after a decision; absent or unconfigured means none. */
  teams?: Pick<TeamsNotifier, 'postDecision'>;
}


export class ApprovalFlow {
  private readonly services: RemediationServices;
  private readonly key: ApprovalSigningKey;
  private readonly approvers: ApproverList;
  private readonly trustPrincipalHeaders: boolean;
  private readonly teams: Pick<TeamsNotifier, 'postDecision'> | undefined;

  /** Throws ValidationError (naming the setting, never its value) when the key or APPROVERS is unusable. */
  constructor(options: ApprovalFlowOptions) {
    this.services = options.services;
    this.key = toSigningKey(options.signingKey);
    this.approvers = typeof options.approvers === 'object' ? options.approvers : parseApprovers(options.approvers);
    this.trustPrincipalHeaders = options.trustPrincipalHeaders;
    this.teams = options.teams;
  }

  /** From the app settings: APPROVAL_SIGNING_KEY and APPROVERS. */
  static fromSettings(
    settings: Pick<Settings, 'APPROVAL_SIGNING_KEY' | 'APPROVERS'>,
    services: RemediationServices,
    options: { trustPrincipalHeaders: boolean; teams?: Pick<TeamsNotifier, 'postDecision'> },
  ): ApprovalFlow {
    return new ApprovalFlow({
      services,
      signingKey: settings.APPROVAL_SIGNING_KEY,
      approvers: settings.APPROVERS,
      trustPrincipalHeaders: options.trustPrincipalHeaders,
      ...(options.teams ? { teams: options.teams } : {}),
    });
  }

  async handle(request: ApprovalHttpRequest, logger: Logger): Promise<ApprovalHttpResponse> {
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'POST') {
      return { ...this.page({ kind: 'invalid-link' }), status: 405, headers: { ...APPROVAL_PAGE_HEADERS, Allow: 'GET, POST' } };
    }
    const id = approvalRequestIdSchema.safeParse(request.requestId);
    if (!id.success) return this.refuse({ page: { kind: 'invalid-link', reason: 'malformed' }, outcome: 'malformed-request-id' }, { method }, logger);
    const fields = { method, requestId: id.data };
    const services = { ...this.services, logger };
    try {
      return method === 'GET' ? await this.confirm(request, id.data, services, fields, logger) : await this.decide(request, id.data, services, fields, logger);
    } catch (error) {
      return serverError(error, fields, logger);
    }
  }

  /** GET: verify, and show the page. Writes nothing, whatever the link. */
  private async confirm(
    request: ApprovalHttpRequest,
    requestId: string,
    services: RemediationServices,
    fields: Record<string, unknown>,
    logger: Logger,
  ): Promise<ApprovalHttpResponse> {
    const now = this.now();
    const decision = single(request.query, APPROVAL_LINK_QUERY.decision);
    const linkToken = single(request.query, APPROVAL_LINK_QUERY.token);
    if (decision === undefined || linkToken === undefined) {
      return this.refuse({ page: { kind: 'invalid-link', reason: 'malformed' }, outcome: 'malformed-link' }, fields, logger);
    }
    const link = verifyApprovalToken(linkToken, { requestId, decision }, this.key, now);
    if (!link.ok) return this.refuse(linkRefusal(link.reason), fields, logger);

    const principal = this.authenticate(request.headers);
    if (!principal.ok) return this.refuse(principal.refusal, fields, logger);
    if (!isAllowedApprover(principal.value, this.approvers)) return this.refuse(forbidden(principal.value), fields, logger);

    const stored = await services.approvals.get(services.tenantId, requestId);
    const state = stateRefusal(stored, now);
    if (state) return this.refuse(state, fields, logger);

    const view = await this.view(services, stored as ApprovalRequest, new Date(link.claims.expiresAt));
    const formToken = issueApprovalFormToken({ requestId, decision: link.claims.decision, approverId: principal.value.id }, this.key, now);
    logger.info('Approval confirmation page shown; nothing was decided.', { ...fields, decision: link.claims.decision, approver: principal.value.name });
    return {
      status: 200,
      headers: { ...APPROVAL_PAGE_HEADERS },
      body: renderConfirmationPage({
        request: view,
        decision: link.claims.decision,
        approver: { name: principal.value.name },
        form: { action: approvalPath(requestId), linkToken, formToken },
      }),
    };
  }

  /** POST: verify everything, then decide once. */
  private async decide(
    request: ApprovalHttpRequest,
    requestId: string,
    services: RemediationServices,
    fields: Record<string, unknown>,
    logger: Logger,
  ): Promise<ApprovalHttpResponse> {
    const now = this.now();
    const form = parseForm(request);
    if (!form.ok) return this.refuse({ page: { kind: 'invalid-link', reason: 'malformed' }, outcome: form.outcome }, fields, logger);
    const { decision } = form.value;

    const link = verifyApprovalToken(form.value.linkToken, { requestId, decision }, this.key, now);
    if (!link.ok) return this.refuse(linkRefusal(link.reason), fields, logger);

    const principal = this.authenticate(request.headers);
    if (!principal.ok) return this.refuse(principal.refusal, fields, logger);
    const formToken = verifyApprovalFormToken(form.value.formToken, { requestId, decision, approverId: principal.value.id }, this.key, now);
    if (!formToken.ok) return this.refuse(formRefusal(formToken.reason), fields, logger);
    if (!isAllowedApprover(principal.value, this.approvers)) return this.refuse(forbidden(principal.value), fields, logger);

    // Checked here too so that a refused POST writes nothing: deciding an expired request would
    // record its expiry, which is the planner's job.
    const stored = await services.approvals.get(services.tenantId, requestId);
    const state = stateRefusal(stored, now);
    if (state) return this.refuse(state, fields, logger);

    const approver = principal.value.name;
    let report: DecisionReport;
    try {
      report = await decideApproval(services, { requestId, decision, approver, reason: form.value.reason });
    } catch (error) {
      if (error instanceof ApprovalStateError) {
        const refusal = stateRefusal(error.request, now) ?? { page: { kind: 'not-found' }, outcome: 'not-decidable' };
        return this.refuse(refusal, fields, logger);
      }
      throw error;
    }

    const decidedAt = report.request.decidedAt ?? now;
    const view = await this.view(services, report.request, new Date(link.claims.expiresAt));
    logger.info('Approval decision recorded.', {
      ...fields,
      decision,
      approver,
      decidedAt: decidedAt.toISOString(),
      enqueued: report.enqueued,
      skipped: report.skipped.length,
      paused: report.paused,
    });
    const reason = decision === 'reject' && form.value.reason ? { reason: form.value.reason } : {};
    // The decision stands whatever Teams does: TeamsNotifier logs its own failures, and anything
    // else thrown here is logged, never turned into an error page for a decision already made.
    try {
      await this.teams?.postDecision(
        { requestId, ruleId: view.ruleId, objectUpn: view.objectUpn, change: view.change, decision, approverName: approver, decidedAt, ...reason },
        logger,
      );
    } catch (error) {
      logger.error('Could not post the decision to Teams; the decision is recorded.', { ...fields, error: describeError(error) });
    }
    return this.page({ kind: 'decided', request: view, decision, approverName: approver, decidedAt, ...reason });
  }

  private authenticate(headers: HeaderSource): { ok: true; value: ApprovalPrincipal } | { ok: false; refusal: Refusal } {
    if (!this.trustPrincipalHeaders) {
      // Without Easy Auth in front, these headers are whatever the caller typed.
      return { ok: false, refusal: { page: { kind: 'unauthenticated' }, outcome: 'principal-headers-not-trusted' } };
    }
    try {
      return { ok: true, value: parseClientPrincipal(headers) };
    } catch (error) {
      if (error instanceof PrincipalError) return { ok: false, refusal: { page: { kind: 'unauthenticated' }, outcome: `principal-${error.reason}` } };
      throw error;
    }
  }

  /** What the pages show; for one change, also the finding's current and expected values. */
  private async view(services: RemediationServices, request: ApprovalRequest, linkExpiresAt: Date) {
    const [plan] = request.plans;
    let finding: { expected: unknown; actual: unknown } | undefined;
    if (plan && request.plans.length === 1) {
      // A nicety: the page stands without it, so a read failure must not cost the approver the page.
      finding = await services.store.findings.get(services.tenantId, plan).catch(() => undefined);
    }
    return approvalChangeView(request, linkExpiresAt, finding);
  }

  private refuse(refusal: Refusal, fields: Record<string, unknown>, logger: Logger): ApprovalHttpResponse {
    const response = this.page(refusal.page);
    logger.warn('Approval request refused; nothing was changed.', { ...fields, outcome: refusal.outcome, status: response.status });
    return response;
  }

  private page(result: ApprovalResultPage): ApprovalHttpResponse {
    const rendered = renderResultPage(result);
    return { status: rendered.status, headers: { ...APPROVAL_PAGE_HEADERS }, body: rendered.html };
  }

  private now(): Date {
    return (this.services.clock ?? (() => new Date()))();
  }
}

/** A query parameter given exactly once; a repeated one is as malformed as a missing one. */
function single(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

function parseForm(request: ApprovalHttpRequest): { ok: true; value: ApprovalFormSubmission } | { ok: false; outcome: string } {
  // Our page posts a urlencoded form; anything else did not come from it.
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return { ok: false, outcome: 'not-a-form' };
  const body = request.body ?? '';
  if (request.oversized || Buffer.byteLength(body, 'utf8') > APPROVAL_FORM_MAX_BYTES) return { ok: false, outcome: 'form-too-large' };
  try {
    return { ok: true, value: parseApprovalForm(body) };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, outcome: 'malformed-form' };
    throw error;
  }
}

/** Storage down, or a bug: the approver learns to try again; the log says why (without secrets: services redact). */
function serverError(error: unknown, fields: Record<string, unknown>, logger: Logger): ApprovalHttpResponse {
  const unavailable = isServiceError(error) && error.transient;
  logger.error('The approval endpoint failed; nothing was decided.', { ...fields, error: describeError(error) });
  return unavailablePage(unavailable ? 503 : 500);
}

/**
 * The page for "we could not answer": also what the adapters return when the flow cannot be built
 * (settings missing), so a misconfigured app answers with a page rather than a stack trace.
 */
export function unavailablePage(status: number): ApprovalHttpResponse {
  const text = status === 503 ? 'The approval service is unavailable. Try the link again in a minute.' : 'The approval service is not working. Its log says why.';
  return {
    status,
    headers: { ...APPROVAL_PAGE_HEADERS, ...(status === 503 ? { 'Retry-After': '30' } : {}) },
    body: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Unavailable · Audit Warden</title></head><body><h1>${escapeHtml(
      text,
    )}</h1><p>Nothing was changed.</p></body></html>\n`,
  };
}
