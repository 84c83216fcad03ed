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

/** How long the process may live on after the command returned, for what it still writes out. */
const EXIT_WAIT_MS = 1000;

const [command, ...rest] = process.argv.slice(2);
if (command === 'worker') {
  const { runWorkerCommand } = await import('./worker.js');
  process.exitCode = await runWorkerCommand(rest);
  // It has stopped: a connection that would not close (bullmq #4656) must not keep the process alive.
  setTimeout(() => process.exit(), EXIT_WAIT_MS).unref();
} else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  (command === undefined ? process.stderr : process.stdout).write(USAGE);
  if (command === undefined) process.exitCode = 2;
} else {
  process.stderr.write(`parafor: Unknown command '${command}'\n\n${USAGE}`);
  process.exitCode = 2;
}
