#!/usr/bin/env node
/**
 * The `parafor` command. Its one command, `parafor worker`, runs the jobs of a queue executor.
 * @module
 */

const USAGE = `Usage: parafor <command> [options]

Commands:
  worker    Run the jobs of a queue executor (parafor/queue): parafor worker --help

Options:
  -h, --help  Show this help
`;

const [command, ...rest] = process.argv.slice(2);
if (command === 'worker') {
  const { runWorkerCommand } = await import('./worker.js');
  process.exitCode = await runWorkerCommand(rest);
} else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  (command === undefined ? process.stderr : process.stdout).write(USAGE);
  if (command === undefined) process.exitCode = 2;
} else {
  process.stderr.write(`parafor: Unknown command '${command}'\n\n${USAGE}`);
  process.exitCode = 2;
}
