import type { HistoryApi } from '../shared/web/query-api';
import { productionRoute } from '../shared/web/production';
import { queryHandlers } from '../shared/web/routes';
import { registerRoute, toFunctionHandler } from './lib/http';

/** GET /api/findings (function key): the drift-history query API; tests pass their own API. */
export function createQueryFindingsHandler(api: HistoryApi) {
  return toFunctionHandler(queryHandlers(api)['query-findings']);
}

registerRoute(productionRoute('query-findings'));
