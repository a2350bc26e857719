import { productionApp, type App } from '../app/app';
import { Dashboard } from './dashboard';
import { ApprovalFlow } from './approval-flow';
import { HistoryService } from '../services/history';
import { HistoryApi } from './query-api';
import { TeamsNotifier } from '../services/teams-digest';
import { webRoutes, type RouteName } from './routes';
import type { WebRoute } from './http';
import type { WebSources } from './routes';

/**
 * The routes as deployed, over the process's App. Behind App Service Authentication (Easy Auth),
 * which signs people in and replaces any x-ms-client-principal* headers a caller sends: only there
 * do the headers identify anyone, hence trustPrincipalHeaders. Each source is built on first use and
 * kept; a failed start (bad settings) is not kept, so a fixed setting works on the next request.
 */
export function productionSources(app: () => Promise<App> = () => productionApp()): WebSources {
  return {
    approvalFlow: once(async () => {
      const { settings, services } = await app();
      return ApprovalFlow.fromSettings(settings, services, {
        trustPrincipalHeaders: true,
        // A follow-up that waits long holds the approver's browser: a few seconds, then give up.
        teams: new TeamsNotifier({ settings, sender: { maxQueueWaitMs: 5_000, retry: { maxRetries: 2 }, requestTimeoutMs: 10_000 } }),
      });
    }),
    historyApi: new HistoryApi(async () => {
      const { store, settings } = await app();
      return new HistoryService(store, settings.AZURE_TENANT_ID);
    }),
    dashboard: once(async () => {
      const { store, settings, approvals } = await app();
      return new Dashboard({
        history: new HistoryService(store, settings.AZURE_TENANT_ID),
        access: { kind: 'approvers', approvers: settings.APPROVERS, trustPrincipalHeaders: true },
        approvals,
        ...(settings.APPROVAL_SIGNING_KEY ? { signingKey: settings.APPROVAL_SIGNING_KEY } : {}),
        ...(settings.PUBLIC_BASE_URL ? { publicBaseUrl: settings.PUBLIC_BASE_URL } : {}),
      });
    }),
  };
}

let production: Record<RouteName, WebRoute> | undefined;

/** One route of the deployed app (the function files register themselves with it). */
export function productionRoute(name: RouteName): WebRoute {
  production ??= webRoutes(productionSources());
  return production[name];
}

function once<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= build();
    value.catch(() => (value = undefined));
    return value;
  };
}
