import {
  type HttpClient,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
  RestError,
  type RetryStrategy,
  createDefaultHttpClient,
  createEmptyPipeline,
  retryPolicy,
} from '@azure/core-rest-pipeline';
import { redactSecrets } from '../errors/redact';
import { describeFailure, failureCode } from './text';

/**
 * How the API clients (Exchange, Graph, Teams) send HTTP: a core-rest-pipeline Pipeline of
 *
 *   retryPolicy(strategies) → wait → …per-attempt policies (token, concurrency slot, counting)… → redaction → timeout → HTTP
 *
 * The strategies decide whether and when to retry; the wait itself runs in the `wait` policy,
 * below the retry policy, for two reasons: the clock is injectable (tests assert exact waits
 * without waiting), and a request waiting to retry holds nothing (no concurrency slot) and delays
 * no other request. Every wait belongs to one request.
 */

export type SendRequest = (request: PipelineRequest) => Promise<PipelineResponse>;

export interface RetryNotice {
  /** The retry about to be made (1 = first retry). */
  attempt: number;
  delayMs: number;
  /** HTTP status of the answer being retried; absent when none arrived. */
  status?: number;
}

export interface ClientPipelineOptions {
  /** Tried in order; the first that does not skip decides. */
  strategies: RetryStrategy[];
  maxRetries: number;
  sleep: (ms: number) => Promise<void>;
  /** Told about each retry before its wait. */
  onRetry?: (request: PipelineRequest, notice: RetryNotice) => void;
  /** Run once per attempt, after any wait and before the wire, in this order. */
  perAttempt?: PipelinePolicy[];
  /** Longest wait for one attempt's answer; none when absent. */
  timeoutMs?: number;
  /** Secrets to remove from error bodies and transport failures (the request's own bearer token always is). */
  redaction?: { known?: readonly string[]; dropQueryStrings?: boolean };
  /** Defaults to the SDK's Node client. */
  httpClient?: HttpClient;
}

export function createClientPipeline(options: ClientPipelineOptions): SendRequest {
  const waits = new WeakMap<PipelineRequest, number>();
  const deferred = options.strategies.map((strategy): RetryStrategy => ({
    name: strategy.name,
    retry(info) {
      const modifiers = strategy.retry(info);
      const request = info.response?.request ?? info.responseError?.request;
      if (modifiers.retryAfterInMs === undefined || request === undefined) return modifiers;
      const delayMs = Math.max(0, Math.round(modifiers.retryAfterInMs));
      const attempt = info.retryCount + 1;
      waits.set(request, delayMs);
      // Marks the retry as Graph's RetryHandler does; harmless elsewhere.
      request.headers.set('Retry-Attempt', String(attempt));
      const status = info.response?.status ?? info.responseError?.statusCode;
      options.onRetry?.(request, { attempt, delayMs, ...(status === undefined ? {} : { status }) });
      return { retryAfterInMs: 0 };
    },
  }));

  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(retryPolicy(deferred, { maxRetries: options.maxRetries }));
  pipeline.addPolicy(waitPolicy(waits, options.sleep));
  for (const policy of options.perAttempt ?? []) pipeline.addPolicy(policy);
  pipeline.addPolicy(redactionPolicy(options.redaction ?? {}));
  if (options.timeoutMs !== undefined) pipeline.addPolicy(timeoutPolicy(options.timeoutMs));
  const httpClient = options.httpClient ?? createDefaultHttpClient();
  return async (request) => pipeline.sendRequest(httpClient, request);
}

/** Sleeps the wait a strategy chose for this request, before its next attempt; nothing else waits. */
function waitPolicy(waits: WeakMap<PipelineRequest, number>, sleep: (ms: number) => Promise<void>): PipelinePolicy {
  return {
    name: 'wait',
    async sendRequest(request, next) {
      const delayMs = waits.get(request) ?? 0;
      waits.delete(request);
      if (delayMs > 0) await sleep(delayMs);
      return next(request);
    },
  };
}

/**
 * The sanitiser, just above the wire. Bodies of non-2xx answers lose every secret (patterns, the
 * configured values, and the bearer token this very request carried); success bodies lose only
 * those known values, should a server echo them (patterns are not applied to data). Transport
 * failures become RestErrors with a redacted message. Nothing above this policy sees a secret in
 * upstream text.
 */
function redactionPolicy(options: { known?: readonly string[]; dropQueryStrings?: boolean }): PipelinePolicy {
  const secretsOf = (request: PipelineRequest) => [...(options.known ?? []), bearerOf(request)];
  return {
    name: 'redaction',
    async sendRequest(request, next) {
      let response: PipelineResponse;
      try {
        response = await next(request);
      } catch (error) {
        throw transportFailure(error, request, (text) => redactSecrets(text, { ...options, known: secretsOf(request) }));
      }
      const text = response.bodyAsText;
      if (text) {
        const known = secretsOf(request);
        if (response.status < 200 || response.status >= 300) response.bodyAsText = redactSecrets(text, { ...options, known });
        else if (known.some((secret) => secret !== undefined && text.includes(secret))) response.bodyAsText = redactSecrets(text, { known });
      }
      return response;
    },
  };
}

function bearerOf(request: PipelineRequest): string | undefined {
  return /^bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
}

/**
 * No answer arrived (only the HTTP client, and the timeout, are below this policy): a RestError with the system code
 * the strategies read (a timeout reads as ETIMEDOUT) and a clean message. A cancellation by the
 * caller passes through.
 */
function transportFailure(error: unknown, request: PipelineRequest, clean: (text: string) => string): unknown {
  if (request.abortSignal?.aborted) return error;
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  const message = timedOut ? TIMED_OUT : describeFailure(error);
  return new RestError(clean(message), { code: timedOut ? 'ETIMEDOUT' : (failureCode(error) ?? RestError.REQUEST_SEND_ERROR), request });
}

const TIMED_OUT = 'the request timed out';

/**
 * A deadline per attempt, as an abort signal. Not PipelineRequest.timeout: the Node client leaves
 * that timer running when the connection fails, which keeps a command-line process alive for the
 * whole timeout; AbortSignal.timeout's timer does not hold the process.
 */
function timeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'attemptTimeout',
    async sendRequest(request, next) {
      const callers = request.abortSignal;
      const deadline = AbortSignal.timeout(timeoutMs);
      request.abortSignal = callers === undefined ? deadline : callers instanceof AbortSignal ? AbortSignal.any([callers, deadline]) : callers;
      try {
        return await next(request);
      } catch (error) {
        throw deadline.aborted && !callers?.aborted ? new RestError(TIMED_OUT, { code: 'ETIMEDOUT', request }) : error;
      } finally {
        request.abortSignal = callers;
      }
    },
  };
}
