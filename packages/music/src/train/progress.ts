// The progress display of a training run, on stderr: on a terminal one line rewritten in
// place with \r (at most ten times a second); elsewhere (a log file, CI) a plain line
// every ten seconds and one per epoch. It shows the epoch, the batch, the running loss
// and accuracy, and the time left, estimated from the batches done so far in this run.
// Left out: multi-line displays, colours, and a rate in examples per second.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Seconds between plain lines when the stream is not a terminal (default 10). */
  plainInterval?: number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  return minutes > 0 ? `${minutes}m${String(whole % 60).padStart(2, '0')}s` : `${whole}s`;
}

export class ProgressReporter {
  readonly #stream: ProgressStream;
  readonly #terminal: boolean;
  readonly #plainInterval: number;
  readonly #totalBatches: number;
  readonly #epochs: number;
  readonly #started = performance.now();
  #batchesDone = 0;
  #lastDraw = 0;
  #lineOpen = false;

  /** `totalBatches`: batches still to run in this call of train() (for the estimate of the time left). */
  constructor(epochs: number, totalBatches: number, options: ProgressOptions = {}) {
    this.#stream = options.stream ?? process.stderr;
    this.#terminal = this.#stream.isTTY === true;
    this.#plainInterval = (options.plainInterval ?? 10) * 1000;
    this.#totalBatches = totalBatches;
    this.#epochs = epochs;
  }

  /** One line of text, outside the updating line (e.g. the device). */
  note(text: string): void {
    this.#closeLine();
    this.#stream.write(`${text}\n`);
  }

  batch(epoch: number, batch: number, batches: number, loss: number, accuracy: number | undefined): void {
    this.#batchesDone++;
    const now = performance.now();
    const interval = this.#terminal ? 100 : this.#plainInterval;
    if (now - this.#lastDraw < interval && batch < batches) return;
    this.#lastDraw = now;
    const perBatch = (now - this.#started) / 1000 / this.#batchesDone;
    const left = perBatch * (this.#totalBatches - this.#batchesDone);
    const text = `epoch ${epoch}/${this.#epochs} batch ${batch}/${batches} loss ${loss.toFixed(4)}`
      + `${accuracy === undefined ? '' : ` acc ${(accuracy * 100).toFixed(1)}%`} eta ${formatDuration(left)}`;
    if (this.#terminal) {
      this.#stream.write(`\r${text}\x1b[K`);
      this.#lineOpen = true;
    } else if (batch < batches) {
      this.#stream.write(`${text}\n`);
    }
  }

  /** The summary line of an epoch (training and validation figures). */
  epoch(summary: string): void {
    this.note(summary);
  }

  finish(): void {
    this.#closeLine();
  }

  #closeLine(): void {
    if (this.#lineOpen) this.#stream.write('\r\x1b[K');
    this.#lineOpen = false;
  }
}

/**
 * Progress of a step that is not training (synthesis, feature extraction, evaluation):
 * on a terminal one line rewritten in place, "label done/total, rate unit/s, eta", at most
 * ten times a second, cleared when the step ends; nothing at all elsewhere (or when
 * disabled), so logs and pipes stay clean.
 */
export class StepProgress {
  readonly #stream: ProgressStream;
  readonly #enabled: boolean;
  readonly #started = performance.now();
  #lastDraw = 0;
  #lineOpen = false;

  constructor(readonly label: string, readonly unit: string, options: { stream?: ProgressStream; enabled?: boolean } = {}) {
    this.#stream = options.stream ?? process.stderr;
    this.#enabled = (options.enabled ?? true) && this.#stream.isTTY === true;
  }

  /** `done` of `total` are finished. */
  update(done: number, total: number): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#lastDraw < 100 && done < total) return;
    this.#lastDraw = now;
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
    this.#stream.write(`\r${this.label} ${done}/${total}, ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} ${this.unit}/s, eta ${formatDuration(left)}\x1b[K`);
    this.#lineOpen = true;
  }

  finish(): void {
    if (this.#lineOpen) this.#stream.write('\r\x1b[K');
    this.#lineOpen = false;
  }
}
