import type { Logger } from '../logging';

/**
 * HTTP without a host: what a route needs of a request and gives back. The Functions adapters
 * (functions/lib/http.ts) and `audit-warden serve` (plain node:http) both translate to and from
 * these, so every handler runs and is tested the same way whoever serves it.
 */
export interface WebRequest {
  method: string;
  url: string;
  /** Route parameters, e.g. `{requestId}`; decoded, unvalidated. */
  params: Record<string, string | undefined>;
  query: URLSearchParams;
  headers: { get(name: string): string | null; forEach(callback: (value: string, name: string) => void): void };
  /** The body as text; only POST routes read it. */
  text(): Promise<string>;
}

export interface WebResponse {
  status: number;
  headers?: Record<string, string>;
  /** Text (HTML pages) or a value sent as JSON. */
  body?: string;
  jsonBody?: unknown;
}

export type WebHandler = (request: WebRequest, logger: Logger) => Promise<WebResponse>;

export interface WebRoute {
  /** The function's name (as the Functions host lists it). */
  name: string;
  methods: readonly ('GET' | 'POST')[];
  /** Route template under /api, e.g. `approvals/{requestId}`. */
  path: string;
  /**
   * `function` routes need a function key in Azure; `anonymous` ones are guarded by App Service
   * Authentication instead, because a browser following a Teams link cannot carry a key.
   */
  authLevel: 'anonymous' | 'function';
  handle: WebHandler;
}
