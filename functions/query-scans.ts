import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loggerFrom } from '../shared/logging';
import { defaultHistoryApi, type HistoryApi } from '../shared/services/history-api';

/** GET /api/scans — scan runs, newest first, with their totals. */
export function createQueryScansHandler(api: HistoryApi = defaultHistoryApi) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    api.scans(request.query, loggerFrom(context));
}

export const queryScans = createQueryScansHandler();

app.http('query-scans', { authLevel: 'function', methods: ['GET'], route: 'scans', handler: queryScans });
