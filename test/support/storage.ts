/** The connection string of the Azurite that test/support/global-setup.ts started for this run. */
export function testStorageConnectionString(): string {
  const value = process.env.AUDIT_WARDEN_TEST_STORAGE;
  if (!value) throw new Error('AUDIT_WARDEN_TEST_STORAGE is not set: run the tests through jest (its global setup starts Azurite).');
  return value;
}

/** A table/queue name prefix unique to one test file, so suites never share rows. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.replace(/[^a-z0-9]/gi, '').slice(0, 40);
}
