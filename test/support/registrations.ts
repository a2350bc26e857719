/**
 * Loads a function module in a fresh module registry and returns what it registered with the
 * @azure/functions `app` (name and options per trigger kind). Outside the Functions host, `app.*`
 * only warns, so the spy sees exactly the calls the host would receive.
 */
export function registrationsOf(
  modulePath: string,
  env: Record<string, string | undefined> = {},
): Array<{ kind: string; name: string; options: Record<string, unknown> }> {
  const calls: Array<{ kind: string; name: string; options: Record<string, unknown> }> = [];
  const saved = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const functions = require('@azure/functions') as typeof import('@azure/functions');
      for (const kind of ['timer', 'http', 'storageQueue'] as const) {
        jest.spyOn(functions.app, kind).mockImplementation(((name: string, options: Record<string, unknown>) => {
          calls.push({ kind, name, options });
        }) as never);
      }
      // A fresh registry per call is the point: the module registers with the spied `app` on load.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(modulePath);
    });
  } finally {
    process.env = saved;
  }
  return calls;
}
