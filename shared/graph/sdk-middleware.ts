import { type HttpMethods, createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { ValidationError } from '../errors';
import type { SendRequest } from '../http';

/** Statuses whose answer has no body; a fetch Response refuses one. */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * The msgraph SDK's whole middleware chain for `GraphClient.sdk`: it hands the SDK's request to our
 * pipeline, so SDK calls get the same token (for our origin only), retries, counting and
 * redaction as GraphClient.request, and hands the answer back as the fetch Response the SDK reads.
 */
export class PipelineMiddleware implements Middleware {
  constructor(private readonly send: SendRequest) {}

  async execute(context: Context): Promise<void> {
    const url = requestUrl(context.request);
    const init = context.options ?? {};
    const headers = createHttpHeaders();
    new Headers(init.headers).forEach((value, name) => headers.set(name, value));
    const body = init.body ?? undefined;
    // Our calls send JSON text; uploads (streams, forms) would need more than this adapter does.
    if (body !== undefined && typeof body !== 'string') {
      throw new ValidationError('GraphClient.sdk sends JSON bodies only.', 'graph request');
    }
    const request = createPipelineRequest({
      url,
      method: (init.method ?? 'GET').toUpperCase() as HttpMethods,
      headers,
      ...(body === undefined ? {} : { body }),
      allowInsecureConnection: url.startsWith('http:'),
    });
    const response = await this.send(request);
    context.response = new Response(NULL_BODY_STATUS.has(response.status) ? null : (response.bodyAsText ?? ''), {
      status: response.status,
      headers: response.headers.toJSON(),
    });
  }
}

function requestUrl(request: Context['request']): string {
  if (typeof request === 'string') return request;
  return request.url;
}
