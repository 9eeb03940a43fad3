import type { TeacherLogitsSection } from '../../pipeline/config/experiment-config.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { targetsPerRow } from '../../pipeline/store/soft-target-store.ts';

/** Default of teacherLogits.encoding.denseMaxBytes: 4 GiB. */
export const DENSE_MAX_BYTES = 4 * 2 ** 30;

/** Bytes of the dense logits of a store: rows * P (or K views) * V * (2 or 4) over the captured splits. */
export function denseBytes(encoding: StoreEncoding, rows: number): number {
  return rows * targetsPerRow(encoding) * encoding.classes * (encoding.precision === 'float16' ? 2 : 4);
}

const fmt = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${b} bytes`);

/**
 * Refuses a dense store whose logits would exceed teacherLogits.encoding.denseMaxBytes (default
 * {@link DENSE_MAX_BYTES}) before the first batch, naming the size it would take and the ways out.
 */
export function checkDenseBudget(cfg: TeacherLogitsSection, encoding: StoreEncoding, dataset: DatasetManifest): void {
  if (encoding.mode !== 'dense') return;
  const rows = cfg.splits.reduce((s, split) => s + dataset.splits[split]!.rows, 0);
  const bytes = denseBytes(encoding, rows);
  const budget = cfg.encoding.denseMaxBytes ?? DENSE_MAX_BYTES;
  if (bytes > budget) {
    const per = encoding.positions !== undefined
      ? `${rows} rows x ${encoding.positions} positions x ${encoding.classes} logits`
      : encoding.views
        ? `${rows} rows x ${encoding.views.count} views x ${encoding.classes} logits`
        : `${rows} rows x ${encoding.classes} logits`;
    throw new ConfigError(
      `teacherLogits.encoding: a dense ${encoding.precision} store would take ${fmt(bytes)} (${bytes} bytes: ${per}), above teacherLogits.encoding.denseMaxBytes = ${budget} (${fmt(budget)}); ` +
        'use encoding.mode topk or sampled, or raise denseMaxBytes',
    );
  }
}
