import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';

/** Azurite's published development account; not a secret (the same key ships in every Azure SDK). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  /** A connection string for AzureWebJobsStorage pointing at this instance's table and queue endpoints. */
  connectionString: string;
  tablePort: number;
  queuePort: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts Azurite from the npm package on free loopback ports, in memory, without telemetry
 * (with telemetry on it tries to reach the internet). Resolves once both services accept connections.
 */
export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<RunningAzurite> {
  const [blobPort, queuePort, tablePort] = await freePorts(3);
  const workspace = mkdtempSync(join(tmpdir(), 'audit-warden-azurite-'));
  const entry = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
  const child = spawn(
    process.execPath,
    [
      entry,
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
      '--silent',
      '--blobPort', String(blobPort),
      '--queuePort', String(queuePort),
      '--tablePort', String(tablePort),
    ],
    // cwd: Azurite may still drop small files in its working folder; keep them out of the project.
    { cwd: workspace, stdio: ['ignore', 'ignore', 'pipe'], detached: false },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });

  const stop = async (): Promise<void> => {
    await terminate(child);
    rmSync(workspace, { recursive: true, force: true });
  };
  try {
    await waitForPorts([queuePort!, tablePort!], child, options.timeoutMs ?? 30_000, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    connectionString: azuriteConnectionString(tablePort!, queuePort!, blobPort!),
    tablePort: tablePort!,
    queuePort: queuePort!,
    pid: child.pid ?? -1,
    stop,
  };
}

export function azuriteConnectionString(tablePort: number, queuePort: number, blobPort: number): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_KEY}`,
    `BlobEndpoint=http://127.0.0.1:${blobPort}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://127.0.0.1:${queuePort}/${DEV_ACCOUNT}`,
    `TableEndpoint=http://127.0.0.1:${tablePort}/${DEV_ACCOUNT}`,
  ].join(';');
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

async function waitForPorts(ports: number[], child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`Azurite exited with code ${child.exitCode} before listening: ${stderr().trim() || 'no output'}`);
      }
      if (await canConnect(port)) break;
      if (Date.now() > deadline) throw new Error(`Azurite did not listen on port ${port} within ${timeoutMs} ms.`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
