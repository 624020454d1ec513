// Dawn's driver warnings, which its native code writes straight to file descriptor 2 (no
// callback or setting turns them off, and Node cannot redirect a descriptor in-process):
// the two limit notes on every OpenGL ES adapter ("maxDynamic…BuffersPerPipelineLayout
// artificially reduced"), about render pipelines' dynamic offsets that Theorbo never
// uses, and the Vulkan loader's absence, followed by the native source line Dawn appends.
// StderrFilter drops exactly these lines from a stream of text and passes everything else
// through at once, the progress line's unterminated '\r' updates included.
// Left out: any other Dawn message (a real error must still be seen).

const dropped = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced/,
  /^Warning: Couldn't load Vulkan: /,
];
/** The line Dawn adds under a warning: the native source location. */
const nativeLocation = /^\s+at .*\(.*dawn\/src\/dawn\/.*:\d+\)\s*$/;
const warningPrefix = 'Warning: ';

export class StderrFilter {
  #pending = '';
  #droppedLast = false;
  #dropped = 0;

  constructor(private readonly write: (text: string) => void) {}

  /** How many lines were dropped so far. */
  get droppedLines(): number {
    return this.#dropped;
  }

  push(chunk: string): void {
    this.#pending += chunk;
    let newline: number;
    while ((newline = this.#pending.indexOf('\n')) >= 0) {
      const line = this.#pending.slice(0, newline + 1);
      this.#pending = this.#pending.slice(newline + 1);
      this.#line(line);
    }
    // A partial line that could still become a dropped warning waits for its end;
    // anything else (a progress update ending in '\r' or an escape) goes out now.
    const couldBeWarning = warningPrefix.startsWith(this.#pending.slice(0, warningPrefix.length)) || /^\s+at /.test(this.#pending) || /^\s*$/.test(this.#pending);
    if (this.#pending !== '' && !couldBeWarning) {
      this.write(this.#pending);
      this.#pending = '';
      this.#droppedLast = false;
    }
  }

  /** Writes what is left at the end of the stream. */
  end(): void {
    if (this.#pending !== '') this.#line(this.#pending);
    this.#pending = '';
  }

  #line(line: string): void {
    const text = line.replace(/\r?\n$/, '');
    const drop = dropped.some((pattern) => pattern.test(text)) || (this.#droppedLast && (nativeLocation.test(text) || text.trim() === ''));
    if (drop) {
      this.#dropped++;
      this.#droppedLast = true;
      return;
    }
    this.#droppedLast = false;
    this.write(line);
  }
}
