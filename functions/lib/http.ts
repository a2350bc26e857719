import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loggerFrom } from '../../shared/logging';
import type { WebHandler, WebRequest, WebRoute } from '../../shared/web/http';

/** A host-free handler as a Functions HTTP handler: HttpRequest in, HttpResponseInit out. */
export function toFunctionHandler(handle: WebHandler) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const response = await handle(webRequestOf(request), loggerFrom(context));
    return {
      status: response.status,
      ...(response.headers ? { headers: response.headers } : {}),
      ...(response.body !== undefined ? { body: response.body } : {}),
      ...(response.jsonBody !== undefined ? { jsonBody: response.jsonBody } : {}),
    };
  };
}

/** Registers one route of shared/web's table as an HTTP function (its name, methods, path, auth level). */
export function registerRoute(route: WebRoute): void {
  app.http(route.name, { authLevel: route.authLevel, methods: [...route.methods], route: route.path, handler: toFunctionHandler(route.handle) });
}

function webRequestOf(request: HttpRequest): WebRequest {
  return {
    method: request.method,
    url: request.url,
    params: request.params,
    query: request.query,
    headers: request.headers,
    text: () => request.text(),
  };
}
