import type { LogFields, Progress, Reporter } from '../pipeline/reporter.ts';

/** How the CLI writes: human text, or one JSON object per line (the default when stdout is not a TTY). */
export type LogFormat = 'text' | 'json';

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatRate(rate: number): string {
  return rate >= 10000 ? `${(rate / 1000).toFixed(1)}k` : rate >= 100 ? rate.toFixed(0) : rate.toFixed(1);
}

/**
 * The CLI's reporter. Text mode writes messages to stderr and, on a TTY, a live progress bar with
 * rate and ETA; otherwise a progress line every `intervalMs`. JSON mode writes one JSON object per
 * line to stdout (`{"time","level","msg",...fields}`), progress included, for log collectors.
 */
export class ConsoleReporter implements Reporter {
  constructor(
    private readonly format: LogFormat,
    private readonly interactive = process.stderr.isTTY === true,
    private readonly intervalMs = 5000,
  ) {}

  private emit(level: string, msg: string, fields?: LogFields): void {
    if (this.format === 'json') {
      process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
    } else {
      const extra = fields && Object.keys(fields).length > 0 && level !== 'info' ? ` ${JSON.stringify(fields)}` : '';
      process.stderr.write(`${level === 'warn' ? 'warning: ' : ''}${msg}${extra}\n`);
    }
  }

  info(message: string, fields?: LogFields): void {
    this.emit('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.emit('warn', message, fields);
  }

  progress(task: string, total: number, unit: string): Progress {
    const start = performance.now();
    let seen = 0;
    let lastDraw = 0;
    const state = (): LogFields => {
      const elapsed = (performance.now() - start) / 1000;
      const rate = elapsed > 0 ? seen / elapsed : 0;
      return { task, done: seen, total, unit, rate: Math.round(rate * 10) / 10, elapsedS: Math.round(elapsed * 10) / 10, etaS: rate > 0 ? Math.round((total - seen) / rate) : null };
    };
    const line = (): string => {
      const s = state();
      const pct = total > 0 ? Math.min(100, (100 * seen) / total) : 100;
      const width = 24;
      const filled = Math.round((pct / 100) * width);
      return `${task} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${seen}/${total} ${unit} ${pct.toFixed(0)}% ${formatRate(s.rate as number)} ${unit}/s ETA ${formatDuration(s.etaS === null ? NaN : (s.etaS as number))}`;
    };
    return {
      tick: (n: number) => {
        seen += n;
        const now = performance.now();
        if (this.format === 'text' && this.interactive) {
          if (now - lastDraw > 100) {
            process.stderr.write(`\r${line()}\x1b[K`);
            lastDraw = now;
          }
        } else if (now - lastDraw > this.intervalMs) {
          if (this.format === 'json') this.emit('progress', task, state());
          else process.stderr.write(`${line()}\n`);
          lastDraw = now;
        }
      },
      done: () => {
        const s = state();
        const summary = `${task}: ${seen} ${unit} in ${formatDuration(s.elapsedS as number)} (${formatRate(s.rate as number)} ${unit}/s)`;
        if (this.format === 'json') this.emit('progress', summary, { ...s, final: true });
        else process.stderr.write(`${this.interactive ? '\r\x1b[K' : ''}${summary}\n`);
      },
    };
  }
}
