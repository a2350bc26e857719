/**
 * What the API clients report about their own traffic, so a scan can say how many calls it made
 * and how often the tenant pushed back, without the clients knowing about scans or loggers.
 */
export type ApiEventType =
  /** One HTTP attempt got an answer (every page and every retry counts once). */
  | 'call'
  /** The answer was throttling: HTTP 429, or Exchange's per-tenant concurrency limit. */
  | 'throttled'
  /** The client is about to try the same request again, after `delayMs`. */
  | 'retry'
  /** An operation failed and its error is about to be thrown to the caller. */
  | 'error';

export type ApiEvent =
  | {
      api: 'exchange';
      type: ApiEventType;
      /** The cmdlet, e.g. Get-Mailbox. */
      cmdlet: string;
      /** HTTP status; absent when no answer arrived (network failure, timeout). */
      status?: number;
      /** Only on 'retry': how long the client waits before the next attempt. */
      delayMs?: number;
      /** Only on 'retry': the number of the retry about to be made (1 = first retry). */
      attempt?: number;
    }
  | {
      api: 'graph';
      type: ApiEventType;
      /** Method and path without the query, e.g. "GET /v1.0/users". */
      operation: string;
      status?: number;
      delayMs?: number;
      attempt?: number;
    };

export type ApiEventListener = (event: ApiEvent) => void;

/**
 * Calls the listener and swallows anything it throws: counting calls must never turn a
 * successful request into a failed one.
 */
export function emitApiEvent(listener: ApiEventListener | undefined, event: ApiEvent): void {
  if (!listener) return;
  try {
    listener(event);
  } catch {
    // Deliberately ignored; see above.
  }
}
