import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loggerFrom } from '../shared/logging';
import { defaultHistoryApi, type HistoryApi } from '../shared/services/history-api';

/** GET /api/events — the tenant's drift events between from and to (default: the last week), newest first, by rule and type. */
export function createQueryEventsHandler(api: HistoryApi = defaultHistoryApi) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    api.events(request.query, loggerFrom(context));
}

export const queryEvents = createQueryEventsHandler();

app.http('query-events', { authLevel: 'function', methods: ['GET'], route: 'events', handler: queryEvents });
