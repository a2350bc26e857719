import type { z } from 'zod';
import { describeError, isServiceError, ValidationError } from '../errors';
import { silentLogger, type Logger } from '../logging';
import type { HistoryService } from '../services/history';
import {
  eventsQuerySchema,
  findingsQuerySchema,
  historyQuerySchema,
  parseQueryParameters,
  QueryParameterError,
  scansQuerySchema,
} from '../services/history-params';

/**
 * The drift-history HTTP API without the Functions runtime: query string in, status and JSON out.
 * The route table (routes.ts) serves it to the HTTP functions and `serve`, so everything here is
 * testable with a store and no host.
 */
export interface ApiResponse {
  status: number;
  jsonBody: unknown;
  headers?: Record<string, string>;
}

/** Query-string names the Functions host itself uses (the function key); never ours to refuse. */
const HOST_PARAMETERS = new Set(['code']);

export class HistoryApi {
  constructor(private readonly history: () => HistoryService | Promise<HistoryService>) {}

  findings(query: URLSearchParams, logger: Logger = silentLogger): Promise<ApiResponse> {
    return this.answer(logger, async () => {
      const params = parse(findingsQuerySchema, query);
      return (await this.history()).findings(params);
    });
  }

  mailboxHistory(mailbox: string | undefined, query: URLSearchParams, logger: Logger = silentLogger): Promise<ApiResponse> {
    return this.answer(logger, async () => {
      if (query.has('mailbox')) throw new QueryParameterError('mailbox', 'mailbox is part of the path (mailboxes/{mailbox}/history), not the query');
      const params = parse(historyQuerySchema, query, { mailbox });
      return (await this.history()).mailboxHistory(params);
    });
  }

  events(query: URLSearchParams, logger: Logger = silentLogger): Promise<ApiResponse> {
    return this.answer(logger, async () => {
      const params = parse(eventsQuerySchema, query);
      return (await this.history()).events(params);
    });
  }

  scans(query: URLSearchParams, logger: Logger = silentLogger): Promise<ApiResponse> {
    return this.answer(logger, async () => {
      const params = parse(scansQuerySchema, query);
      return (await this.history()).scans(params);
    });
  }

  private async answer(logger: Logger, work: () => Promise<unknown>): Promise<ApiResponse> {
    try {
      return { status: 200, jsonBody: await work(), headers: { 'cache-control': 'no-store' } };
    } catch (error) {
      return failure(error, logger);
    }
  }
}

function parse<S extends z.ZodType>(schema: S, query: URLSearchParams, extra: Record<string, string | undefined> = {}): z.output<S> {
  const raw: Record<string, string | undefined> = { ...extra };
  for (const name of new Set(query.keys())) {
    if (HOST_PARAMETERS.has(name)) continue;
    const values = query.getAll(name);
    if (values.length > 1) throw new QueryParameterError(name, `${name} is given more than once`);
    raw[name] = values[0];
  }
  return parseQueryParameters(schema, raw);
}

/** Errors as the API's callers should see them: what to fix (400), or that we are at fault, without internals. */
export function failure(error: unknown, logger: Logger): ApiResponse {
  if (error instanceof QueryParameterError) {
    return { status: 400, jsonBody: { error: error.message, parameter: error.parameter } };
  }
  if (isServiceError(error) && error.service === 'storage') {
    logger.error('Drift history query failed: storage', { error: error.message, code: error.code });
    return { status: 503, jsonBody: { error: 'The drift history store is unavailable; try again later.' }, headers: { 'retry-after': '30' } };
  }
  if (error instanceof ValidationError) {
    // Settings problems: the operator reads the log; the caller only learns it is not their fault.
    logger.error('Drift history query failed: configuration', { error: describeError(error) });
    return { status: 500, jsonBody: { error: 'The app is not configured correctly; see its log.' } };
  }
  logger.error('Drift history query failed', { error: describeError(error) });
  return { status: 500, jsonBody: { error: 'Unexpected error; see the app log.' } };
}
