// The error every audio reader and writer raises: one sentence that names the function,
// the file (or the buffer's given name) and what is wrong with it, so a user can act on
// it without a stack trace. Decoder libraries' own errors are caught and rephrased here.
// A FileFormatError, so one catch handles bad audio and bad model files alike.

import { FileFormatError } from '../files/file-format-error.ts';

export class AudioFileError extends FileFormatError {
  override name = 'AudioFileError';
  constructor(operation: string, file: string, problem: string, field?: string) {
    super(operation, file, problem, field);
  }
}
