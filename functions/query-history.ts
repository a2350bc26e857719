import type { HistoryApi } from '../shared/web/query-api';
import { productionRoute } from '../shared/web/production';
import { queryHandlers } from '../shared/web/routes';
import { registerRoute, toFunctionHandler } from './lib/http';

/** GET /api/mailboxes/{mailbox}/history (function key): the drift-history query API; tests pass their own API. */
export function createQueryHistoryHandler(api: HistoryApi) {
  return toFunctionHandler(queryHandlers(api)['query-history']);
}

registerRoute(productionRoute('query-history'));
