import { spawn, type ChildProcess } from 'node:child_process';

/** A child process that prints KEY=VALUE lines on start-up (the simulated tenant's CLI). */
export interface StartedChild {
  child: ChildProcess;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts `node <script> <args>` and resolves with the KEY=VALUE lines it prints before `expectKeys` are all seen. */
export function startChildWithEnv(script: string, args: string[], expectKeys: string[], timeoutMs = 120_000): Promise<StartedChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const env: Record<string, string> = {};
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const match = /^([A-Z_]+)=(.*)$/.exec(line);
        if (match) env[match[1]!] = match[2]!;
      }
      if (expectKeys.every((key) => key in env)) {
        clearTimeout(timer);
        resolve({ child, env, stop: () => stopChild(child) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with code ${code}: ${stderr}`));
    });
  });
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** Runs `node <script>` to completion and parses the last stdout line as JSON. */
export function runJsonChild<T>(script: string, args: string[], env: Record<string, string | undefined>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('exit', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} exited with code ${code}: ${stderr || stdout}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result: ${stdout.slice(-500)} ${stderr}`));
      }
    });
  });
}
