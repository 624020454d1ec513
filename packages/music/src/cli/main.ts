// The `theorbo` command's entry (`pnpm theorbo`, `pnpm demo`). A command that may start
// a WebGPU device runs theorbo.ts in a child process whose stderr passes through
// StderrFilter, so Dawn's driver warnings (written by native code to descriptor 2, which
// no in-process setting silences) do not reach the user; the child learns from
// THEORBO_STDERR_TTY whether the real stderr is a terminal (for the progress line).
// --verbose, --help, no command, and commands that start no device (plot) run in this
// process instead, with nothing filtered. The exit code and a terminating signal are
// passed on. Left out: filtering stdout (Dawn writes nothing there).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { StderrFilter } from './driver-noise.ts';

const cliPath = join(import.meta.dirname, 'theorbo.ts');
const args = process.argv.slice(2);
const commandName = args.find((arg) => !arg.startsWith('-') && !isOptionValue(arg));
const noDevice = commandName === undefined || commandName === 'help' || commandName === 'plot';
const inProcess = process.env.THEORBO_CLI_CHILD === '1' || noDevice || args.some((arg) => ['--verbose', '--help', '-h'].includes(arg));

/** Whether `arg` is the value of the global --device option (`--device cpu chroma …`). */
function isOptionValue(arg: string): boolean {
  const index = args.indexOf(arg);
  return index > 0 && args[index - 1] === '--device';
}

if (inProcess) {
  await import('./theorbo.ts');
} else {
  const child = spawn(process.execPath, [...process.execArgv, cliPath, ...args], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, THEORBO_CLI_CHILD: '1', THEORBO_STDERR_TTY: process.stderr.isTTY ? '1' : '0' },
  });
  const filter = new StderrFilter((text) => process.stderr.write(text));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => filter.push(chunk));
  // Ctrl-C reaches the child through the terminal's process group; the parent waits for it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('close', (code, signal) => {
    filter.end();
    if (signal === null) process.exitCode = code ?? 1;
    else {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
  });
}
