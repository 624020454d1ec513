// The error every audio reader and writer raises: one sentence that names the function,
// the file (or the buffer's given name) and what is wrong with it, so a user can act on
// it without a stack trace. Decoder libraries' own errors are caught and rephrased here.

export class AudioFileError extends Error {
  override name = 'AudioFileError';
  constructor(
    readonly operation: string,
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${operation}: ${file} ${problem}`);
  }
}
