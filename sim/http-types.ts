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
  /** What the write endpoints received, for tests to assert on. */
  received: ReceivedRequests;
}

/**
 * Every write request the simulated tenant received, in arrival order, whether it succeeded or
 * not (after the token check and fault injection; a request answered by an injected fault is not
 * recorded). Bodies are the parsed JSON (or the raw text when it was not JSON).
 */
export interface ReceivedRequests {
  /** POST /users/{id}/assignLicense; userId is the user's object id when the user exists, else the path segment. */
  readonly assignLicense: { userId: string; body: unknown }[];
  /** POST /groups/{id}/assignLicense. */
  readonly groupAssignLicense: { groupId: string; body: unknown }[];
  /** POST /users/{id}/reprocessLicenseAssignment. */
  readonly reprocessLicenseAssignment: { userId: string }[];
  /** Exchange Set-* cmdlets that bound (parameters as sent). */
  readonly cmdlets: { cmdlet: string; parameters: Record<string, unknown> }[];
  /** Empties every list. */
  clear(): void;
}

export function createReceivedRequests(): ReceivedRequests {
  const received: ReceivedRequests = {
    assignLicense: [],
    groupAssignLicense: [],
    reprocessLicenseAssignment: [],
    cmdlets: [],
    clear: () => {
      received.assignLicense.length = 0;
      received.groupAssignLicense.length = 0;
      received.reprocessLicenseAssignment.length = 0;
      received.cmdlets.length = 0;
    },
  };
  return received;
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
