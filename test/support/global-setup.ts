import { startAzurite, type RunningAzurite } from '../../scripts/azurite';

/**
 * One Azurite for the whole test run: started here, its connection string handed to the test
 * workers through the environment, stopped in global-teardown. Tests need nothing else running.
 */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite();
  (globalThis as { __azurite?: RunningAzurite }).__azurite = azurite;
  process.env.AUDIT_WARDEN_TEST_STORAGE = azurite.connectionString;
}
