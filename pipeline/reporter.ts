/**
 * How stages talk to the user. Stages never print: they receive a Reporter from the CLI (or a
 * silent/collecting one from tests) and report messages and progress through it.
 */

/** Structured fields attached to a message (written as-is in JSON log mode). */
export type LogFields = Record<string, unknown>;

/** Progress of one long task, e.g. rows through the teacher. */
export interface Progress {
  /** Add `n` units of completed work. */
  tick(n: number): void;
  /** The task finished (or was abandoned); prints the final rate. */
  done(): void;
}

/** The channel from a stage to whoever runs it. */
export interface Reporter {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  /** Starts a progress display for `total` units (e.g. rows, examples) of `unit`. */
  progress(task: string, total: number, unit: string): Progress;
}

/** One recorded event of a {@link CollectingReporter}. */
export interface ReportedEvent {
  level: 'info' | 'warn' | 'progress';
  message: string;
  fields?: LogFields;
}

/** A reporter that remembers everything; for tests and for embedding the pipeline as a library. */
export class CollectingReporter implements Reporter {
  readonly events: ReportedEvent[] = [];
  info(message: string, fields?: LogFields): void {
    this.events.push({ level: 'info', message, ...(fields ? { fields } : {}) });
  }
  warn(message: string, fields?: LogFields): void {
    this.events.push({ level: 'warn', message, ...(fields ? { fields } : {}) });
  }
  progress(task: string, total: number, unit: string): Progress {
    let seen = 0;
    return {
      tick: (n) => {
        seen += n;
      },
      done: () => {
        this.events.push({ level: 'progress', message: task, fields: { total, unit, seen } });
      },
    };
  }
  /** All messages at a level, for assertions. */
  messages(level?: ReportedEvent['level']): string[] {
    return this.events.filter((e) => !level || e.level === level).map((e) => e.message);
  }
}

/** A reporter that drops everything. */
export const silentReporter: Reporter = {
  info: () => {},
  warn: () => {},
  progress: () => ({ tick: () => {}, done: () => {} }),
};
