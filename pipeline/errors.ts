/**
 * The project's small set of typed errors. Library code throws these; the CLI maps them to an exit
 * code and one clear line (the stack only with `--verbose`).
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
 */

/** Base class: every error the pipeline raises on purpose. */
export class DistillError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration file, field or command-line value is wrong (exit 2). */
export class ConfigError extends DistillError {
  override readonly exitCode = 2;
}

/** The command line itself is wrong (exit 2). */
export class UsageError extends DistillError {
  override readonly exitCode = 2;
}

/** Input data (a dataset file, a shard, a manifest, a model) is missing, malformed or inconsistent (exit 1). */
export class DataError extends DistillError {}

/** A stored artifact no longer matches its recorded checksum or fingerprint (exit 1). */
export class IntegrityError extends DistillError {}

/**
 * An output could not be written (disk full, no permission, read-only filesystem) (exit 1). Thrown by
 * pipeline/io/atomic-write.ts, whose temporary file is removed first: nothing is left under the
 * final name, and a file already there is unchanged.
 */
export class WriteError extends DistillError {}

/** Another process holds the lock on an output directory (exit 1). */
export class LockError extends DistillError {}

/** Message factory: a field with a bad value and what is allowed. */
export function invalidValue(field: string, value: unknown, allowed: string): ConfigError {
  return new ConfigError(`${field} must be ${allowed}, but got ${JSON.stringify(value)}`);
}
