// Where a node was created in the user's code: the first stack frame outside Theorbo's
// own package sources, node internals and node_modules. Captured once per node.

const internal = [/[\\/]packages[\\/][a-z]+[\\/]src[\\/]/, /node:internal/, /[\\/]node_modules[\\/]/, /^node:/];

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export function formatLocation(location: SourceLocation | undefined): string {
  if (!location) return 'an unknown place';
  return `${location.file}:${location.line}:${location.column}`;
}

const framePattern = /\(?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?$/;

export function captureLocation(): SourceLocation | undefined {
  const previous = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = previous;
  const lines = stack.split('\n').slice(1);
  for (const line of lines) {
    const match = framePattern.exec(line.trim());
    if (!match) continue;
    const file = match[1]!.replace(/^file:\/\//, '');
    if (internal.some((pattern) => pattern.test(file))) continue;
    return { file: shorten(file), line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

function shorten(file: string): string {
  // No process in a browser: file URLs stay whole there.
  const cwd = (globalThis as { process?: { cwd?: () => string } }).process?.cwd?.() ?? '';
  if (cwd === '') return file;
  return file.startsWith(cwd + '/') ? file.slice(cwd.length + 1) : file;
}
