import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loggerFrom } from '../shared/logging';
import { defaultHistoryApi, type HistoryApi } from '../shared/services/history-api';

/**
 * GET /api/findings — current findings (by default every one not resolved or gone), filtered by
 * rule, severity, status (a status, `active` or `all`) and mailbox (object id or UPN).
 */
export function createQueryFindingsHandler(api: HistoryApi = defaultHistoryApi) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    api.findings(request.query, loggerFrom(context));
}

export const queryFindings = createQueryFindingsHandler();

app.http('query-findings', { authLevel: 'function', methods: ['GET'], route: 'findings', handler: queryFindings });
