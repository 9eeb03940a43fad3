import type { TrainSection } from '../../pipeline/config/experiment-config.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import type { SavedArray } from '../../pipeline/student/checkpoint.ts';
import type { EpochMetrics, EpochSelection, SplitMetrics } from '../../pipeline/student/run-manifest.ts';

/**
 * Which epoch a run keeps, decided on the per-epoch evaluation rows only (the validation rows when
 * dataset.validation is set): the last epoch, or the best by train.selectMetric, with optional early
 * stopping after train.patience epochs without improvement. Best and patience need validation rows, so
 * that nothing is chosen on the test split. Ties keep the earlier epoch.
 */
export class EpochSelector {
  private best: EpochMetrics | null = null;
  private bestWeights: SavedArray[] | null = null;
  private stopped = false;

  private constructor(
    private readonly train: Pick<TrainSection, 'selectEpoch' | 'selectMetric' | 'patience'>,
    private readonly on: string,
  ) {}

  /**
   * A selector for a run; `validation` is false when the config names no validation rows, in which
   * case train.selectEpoch best and train.patience are refused (they would choose on the test split).
   */
  static for(train: Pick<TrainSection, 'selectEpoch' | 'selectMetric' | 'patience'>, validation: boolean, on: string): EpochSelector {
    if (!validation && (train.selectEpoch === 'best' || train.patience !== undefined)) {
      const what = train.selectEpoch === 'best' ? 'train.selectEpoch "best"' : `train.patience ${train.patience}`;
      throw new ConfigError(`${what} chooses an epoch, and without dataset.validation it would choose on the test split; set dataset.validation (a split name, or {"rows": n} / {"fraction": f} carved out of train)`);
    }
    return new EpochSelector(train, on);
  }

  /** Whether `a` is strictly better than `b` on the selection metric. */
  private better(a: SplitMetrics, b: SplitMetrics): boolean {
    return this.train.selectMetric === 'accuracy' ? a.accuracy > b.accuracy : a.loss < b.loss;
  }

  /**
   * Records an epoch's metrics (and, for selectEpoch best, the weights when the epoch is the best so
   * far: `weights` is only called then). Returns true when training should stop early.
   */
  async observe(m: EpochMetrics, weights: (() => Promise<SavedArray[]>) | null): Promise<boolean> {
    if (!this.best || this.better(m.eval, this.best.eval)) {
      this.best = m;
      this.bestWeights = this.train.selectEpoch === 'best' && weights ? await weights() : null;
    }
    const p = this.train.patience;
    this.stopped = p !== undefined && m.epoch - this.best.epoch >= p;
    return this.stopped;
  }

  /** The epoch whose weights to keep, and its weights when they must be restored (null: the current weights). */
  chosen(last: EpochMetrics): { epoch: number; weights: SavedArray[] | null } {
    if (this.train.selectEpoch === 'last' || !this.best || this.best.epoch === last.epoch) return { epoch: last.epoch, weights: null };
    return { epoch: this.best.epoch, weights: this.bestWeights };
  }

  /** The run manifest's record of the choice. */
  record(last: EpochMetrics): EpochSelection {
    return { rule: this.train.selectEpoch, metric: this.train.selectMetric, on: this.on, epoch: this.chosen(last).epoch, patience: this.train.patience ?? null, stoppedEarly: this.stopped };
  }
}
