import type { TokenCredential } from '@azure/identity';
import { main } from '../../shared/cli/main';

/** Runs the command line in-process with captured output. */
export async function runCli(args: string[], env: Record<string, string | undefined>, credential?: TokenCredential) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    ...(credential ? { credential } : {}),
  });
  return { code, stdout, stderr };
}
