/** Counters a test or benchmark reads to check how the client used the simulated tenant. */

export interface SimStatsSnapshot {
  calls: { graph: number; exchange: number; identity: number };
  /** Requests per Graph route, e.g. "GET /users". */
  graphRoutes: Record<string, number>;
  /** Exchange requests per cmdlet (as named in the body), faulted ones included. */
  cmdlets: Record<string, number>;
  /** Injected faults (scripted and random), by kind. */
  faults: { total: number; byKind: Record<string, number> };
  /** Exchange requests refused because concurrencyLimit requests were already in flight. */
  concurrencyRejections: number;
  /** Requests refused for a missing or invalid token. */
  unauthorized: number;
  /** Highest number of Exchange requests in flight at once. */
  maxExchangeInFlight: number;
}

export class SimStats implements SimStatsSnapshot {
  calls = { graph: 0, exchange: 0, identity: 0 };
  graphRoutes: Record<string, number> = {};
  cmdlets: Record<string, number> = {};
  faults = { total: 0, byKind: {} as Record<string, number> };
  concurrencyRejections = 0;
  unauthorized = 0;
  maxExchangeInFlight = 0;

  reset(): void {
    this.calls = { graph: 0, exchange: 0, identity: 0 };
    this.graphRoutes = {};
    this.cmdlets = {};
    this.faults = { total: 0, byKind: {} };
    this.concurrencyRejections = 0;
    this.unauthorized = 0;
    this.maxExchangeInFlight = 0;
  }

  /** A plain copy, safe to keep while the server goes on counting. */
  snapshot(): SimStatsSnapshot {
    return {
      calls: { ...this.calls },
      graphRoutes: { ...this.graphRoutes },
      cmdlets: { ...this.cmdlets },
      faults: { total: this.faults.total, byKind: { ...this.faults.byKind } },
      concurrencyRejections: this.concurrencyRejections,
      unauthorized: this.unauthorized,
      maxExchangeInFlight: this.maxExchangeInFlight,
    };
  }

  countFault(kind: string): void {
    this.faults.total++;
    this.faults.byKind[kind] = (this.faults.byKind[kind] ?? 0) + 1;
  }

  countCmdlet(name: string): void {
    this.cmdlets[name] = (this.cmdlets[name] ?? 0) + 1;
  }

  countGraphRoute(route: string): void {
    this.graphRoutes[route] = (this.graphRoutes[route] ?? 0) + 1;
  }
}
