import type { PipelineResponse, RetryInformation, RetryStrategy } from '@azure/core-rest-pipeline';
import { type RetryPolicy, backoffDelay, parseRetryAfter } from './retry';
import { failureCode } from './text';

/**
 * The retry decisions the clients share. Each is a core-rest-pipeline RetryStrategy; a client
 * lists them in order and the first that does not skip decides. Waiting is not done here: see
 * createClientPipeline.
 */

/** The answers whose Retry-After is honoured, as in the SDK's own throttlingRetryStrategy. */
const THROTTLING_STATUS = new Set([429, 503]);

/**
 * Waits as long as the server's Retry-After asks on 429 and 503, capped at `maxDelayMs`; without
 * a readable Retry-After it skips, so backoff decides. Written here because core-rest-pipeline
 * 1.24 uses throttlingRetryStrategy internally but exports only throttlingRetryPolicy, whose wait
 * has no cap and its own timer. `applies` narrows it for a client that must not retry every such
 * answer; `now` reads HTTP dates against the client's clock.
 */
export function retryAfterStrategy(options: {
  maxDelayMs: number;
  applies?: (response: PipelineResponse) => boolean;
  now?: () => number;
}): RetryStrategy {
  const { maxDelayMs, applies = () => true, now = Date.now } = options;
  return {
    name: 'retryAfter',
    retry({ response }) {
      if (!response || !THROTTLING_STATUS.has(response.status) || !applies(response)) return { skipStrategy: true };
      const delayMs = parseRetryAfter(response.headers.get('retry-after'), now());
      return delayMs === undefined ? { skipStrategy: true } : { retryAfterInMs: Math.min(maxDelayMs, delayMs) };
    },
  };
}

/** Exponential backoff with equal jitter (see backoffDelay) for whatever `shouldRetry` accepts. */
export function backoffStrategy(policy: RetryPolicy, random: () => number, shouldRetry: (info: RetryInformation) => boolean): RetryStrategy {
  return {
    name: 'backoff',
    retry: (info) => (shouldRetry(info) ? { retryAfterInMs: backoffDelay(info.retryCount + 1, policy, random) } : { skipStrategy: true }),
  };
}

/** Failures where nothing answered: no server, no such host, no route. The request was never delivered. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function isUnreachable(error: unknown): boolean {
  const code = failureCode(error);
  return code !== undefined && UNREACHABLE.has(code);
}

/** Enough to ride out a listener restarting or a DNS blip, short enough to fail fast on a wrong URL. */
export const QUICK_RETRY_MS = 500;

/**
 * Nothing listening, or no such host, is not throttling: it is almost always a wrong base URL or
 * a service that is down, and minutes of backoff would only hide that. One quick retry, then the
 * failure goes to the caller.
 */
export function unreachableStrategy(): RetryStrategy {
  return {
    name: 'unreachable',
    retry({ retryCount, responseError }) {
      if (!responseError || !isUnreachable(responseError)) return { skipStrategy: true };
      return retryCount === 0 ? { retryAfterInMs: QUICK_RETRY_MS } : { errorToThrow: responseError };
    },
  };
}
