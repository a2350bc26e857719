/** What the server hands the API handlers, and what they hand back. */
import type { IncomingHttpHeaders } from 'node:http';
import type { PagedQueryStore } from './paging';
import type { SimulatedTenant } from './tenant';

/** What an API handler answers; the server adds latency and writes it. */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Destroy the socket instead of answering (the connection-reset fault). */
  destroy?: boolean;
}

export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
  /** The id the response carries in `request-id`. */
  requestId: string;
}

export interface ApiContext {
  tenant: SimulatedTenant;
  baseUrl: string;
  now: () => number;
  /** Exchange page size when the client sends no `Prefer: odata.maxpagesize`. */
  exchangeDefaultPageSize: number;
  graphQueries: PagedQueryStore<unknown>;
  exchangeQueries: PagedQueryStore<ExchangeQueryContext>;
}

export interface ExchangeQueryContext {
  cmdlet: string;
  /** Fingerprint of CmdletInput: a next page must be requested with the same body. */
  bodyFingerprint: string;
  /** Warning to attach to the last page (ResultSize cut the result short). */
  lastPageWarning?: string;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export const JSON_ODATA = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
