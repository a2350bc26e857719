/**
 * Three projects, one per kind of test (`jest --selectProjects <name>`; plain `jest` runs all three):
 * - unit: pure code, in-process fakes, the client tests' 127.0.0.1 stub server; no Azurite, no
 *   simulated tenant, no child process, no dist/. Seconds.
 * - integration: Azurite and local servers (the simulated tenant, the Teams receiver).
 * - e2e: the CLI from dist/ as a child process, whole nights end to end.
 * Integration and e2e name the same global setup, which jest runs once per run (it collects the
 * setup modules of the selected projects into a set): one Azurite for the whole run, none for unit.
 * @type {import('jest').Config}
 */
const shared = {
  testEnvironment: 'node',
  // Type checking is the build (`tsc -p tsconfig.json`); jest only transpiles, which keeps the suite
  // fast. tsconfig.json sets isolatedModules, so ts-jest transpiles file by file.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};

const withAzurite = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/test/unit'], testMatch: ['**/*.test.ts'] },
    { ...shared, ...withAzurite, displayName: 'integration', roots: ['<rootDir>/test/integration'], testMatch: ['**/*.test.ts'] },
    { ...shared, ...withAzurite, displayName: 'e2e', roots: ['<rootDir>/test/e2e'], testMatch: ['**/*.test.ts'] },
  ],
  testTimeout: 30000,
  maxWorkers: 2,
};
