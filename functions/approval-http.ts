import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { describeError } from '../shared/errors';
import { loggerFrom } from '../shared/logging';
import { APPROVAL_FORM_MAX_BYTES, ApprovalFlow, unavailablePage, type ApprovalHttpResponse } from '../shared/services/approval-flow';
import { productionRemediationEnvironment } from '../shared/services/remediation-environment';
import { TeamsNotifier } from '../shared/services/teams-digest';

export const APPROVAL_FUNCTION = 'approval';

/** How the handler gets its flow; tests and `audit-warden serve` pass one over their own tables. */
export type ApprovalFlowFactory = () => Promise<ApprovalFlow>;

let production: Promise<ApprovalFlow> | undefined;

/**
 * Deployed, the app sits behind App Service Authentication (Easy Auth), which signs the approver in
 * and replaces any x-ms-client-principal* headers a caller sends: only then do the headers identify
 * anyone, hence trustPrincipalHeaders. Built once per process, so the Teams limiter spans invocations.
 */
const productionFlow: ApprovalFlowFactory = () => {
  production ??= productionRemediationEnvironment().then((environment) =>
    ApprovalFlow.fromSettings(environment.settings, environment.services, {
      trustPrincipalHeaders: true,
      // A follow-up that waits long holds the approver's browser: a few seconds, then give up.
      teams: new TeamsNotifier({ settings: environment.settings, sender: { maxQueueWaitMs: 5_000, retry: { maxRetries: 2 }, requestTimeoutMs: 10_000 } }),
    }),
  );
  // Settings fixed by the operator should work on the next request, without a restart.
  production.catch(() => (production = undefined));
  return production;
};

/**
 * GET /api/approvals/{requestId}?d=approve|reject&t=<link token> — the confirmation page; decides nothing.
 * POST /api/approvals/{requestId} (form: d, t, f, reason) — decides, once.
 *
 * The function is anonymous at the Functions level on purpose: a function key in a Teams link
 * would be a shared secret in every channel member's browser history. App Service Authentication
 * guards the route instead (configure it to require sign-in, "Return HTTP 302" for
 * unauthenticated requests), and the flow refuses any request without its principal headers (401).
 */
export function createApprovalHandler(flow: ApprovalFlowFactory = productionFlow) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const logger = loggerFrom(context);
    let handler: ApprovalFlow;
    try {
      handler = await flow();
    } catch (error) {
      // Settings messages name the setting, never its value.
      logger.error('The approval endpoint is not configured; nothing was decided.', { error: describeError(error) });
      return toHttp(unavailablePage(500));
    }
    const post = request.method.toUpperCase() === 'POST';
    // A body declared larger than any confirmation form is refused unread.
    const oversized = post && Number(request.headers.get('content-length') ?? '0') > APPROVAL_FORM_MAX_BYTES;
    const body = post && !oversized ? await request.text() : undefined;
    const response = await handler.handle(
      {
        method: request.method,
        requestId: request.params.requestId,
        query: request.query,
        headers: request.headers,
        ...(body !== undefined ? { body } : {}),
        ...(oversized ? { oversized } : {}),
      },
      logger,
    );
    return toHttp(response);
  };
}

function toHttp(response: ApprovalHttpResponse): HttpResponseInit {
  return { status: response.status, headers: response.headers, body: response.body };
}

export const approvalHandler = createApprovalHandler();

app.http(APPROVAL_FUNCTION, { authLevel: 'anonymous', methods: ['GET', 'POST'], route: 'approvals/{requestId}', handler: approvalHandler });
