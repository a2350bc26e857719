import { EXIT, processIO, reportFailure, type CliCommand, type CliIO } from './io';
import { commands } from './commands';

function usage(all: CliCommand[]): string {
  const width = Math.max(...all.map((command) => command.name.length));
  return [
    'Usage: audit-warden <command> [options]',
    '',
    'Commands:',
    ...all.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Run "audit-warden <command> --help" for a command\'s options.',
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage(commands));
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr.write(`audit-warden: unknown command "${name}".\n${usage(commands)}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return reportFailure(io, error);
  }
}
