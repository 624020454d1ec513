// The error every file reader raises for a file that is missing, damaged or inconsistent
// (audio, .npy/.npz, a model's config.json and weights.npz): one sentence that names the
// operation, the file, and, where one is to blame, the field, so a user can act on it
// without a stack trace. Catch this one class to handle every bad file; AudioFileError
// (audio/errors.ts) is the audio readers' subclass. Problems with the arguments of a call
// (a bad option, a rate out of range) stay plain Errors.

export class FileFormatError extends Error {
  override name = 'FileFormatError';
  constructor(
    /** The public function that read the file, named first in the message (e.g. 'loadModel'). */
    readonly operation: string,
    /** The path, or the name given to in-memory bytes. */
    readonly file: string,
    /** What is wrong, as the end of a sentence that starts with the file's name. */
    readonly problem: string,
    /** The field to blame, as a path into the file ('feature.nFft', "member 'w.npy'"), if there is one. */
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(`${operation}: ${file} ${problem}`, options);
  }
}
