// Whether the user's stderr is a terminal, for the progress line. main.ts runs the CLI in
// a child whose stderr is a pipe to its filter (driver-noise.ts) and says in
// THEORBO_STDERR_TTY what the real stderr is; adoptParentTerminal carries that over to
// process.stderr.isTTY, so every progress display (training's and the others') sees the
// user's terminal. Left out: the terminal's width (progress lines are short).

/** In a child started by main.ts, reports the parent's stderr as this process's. */
export function adoptParentTerminal(): void {
  if (process.env.THEORBO_CLI_CHILD === '1' && process.env.THEORBO_STDERR_TTY === '1') {
    (process.stderr as { isTTY?: boolean }).isTTY = true;
  }
}

/** Whether a progress display should be drawn: stderr is a terminal and --quiet was not given. */
export function progressWanted(quiet: boolean | undefined): boolean {
  return quiet !== true && process.stderr.isTTY === true;
}
