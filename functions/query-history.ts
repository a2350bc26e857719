import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loggerFrom } from '../shared/logging';
import { defaultHistoryApi, type HistoryApi } from '../shared/services/history-api';

/**
 * GET /api/mailboxes/{mailbox}/history — one mailbox's drift events (object id or UPN), newest
 * first, optionally within from/to; with `at`, also its audit configuration in force at that time.
 */
export function createQueryHistoryHandler(api: HistoryApi = defaultHistoryApi) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    api.mailboxHistory(request.params.mailbox, request.query, loggerFrom(context));
}

export const queryHistory = createQueryHistoryHandler();

app.http('query-history', { authLevel: 'function', methods: ['GET'], route: 'mailboxes/{mailbox}/history', handler: queryHistory });
