import type { ExperimentConfig } from '../../pipeline/config/experiment-config.ts';
import type { DatasetColumn } from '../../pipeline/dataset/dataset-manifest.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { OpenedStore } from '../../pipeline/store/open-store.ts';

/**
 * The checks of a student run on a view store (docs/training.md, "Views"), before the first step:
 * a config that declares `teacherLogits.views` needs its store (even at alpha = 1: the hard-label
 * student trains on the same stored views); the views must augment the student's feature column;
 * `train.viewTargets` needs a view store. Reports how the views are used.
 */
export function checkViewInputs(cfg: ExperimentConfig, store: OpenedStore | null, storeDir: string | null, feature: DatasetColumn, reporter: Reporter): void {
  const views = store?.encoding.views;
  if (cfg.teacherLogits?.views && !store) {
    throw new ConfigError(`teacherLogits.views is set, so the student trains on the stored views, but the store ${storeDir} has no manifest.json yet; run \`distill teacher-logits\` first`);
  }
  if (!views) {
    if (cfg.train?.viewTargets !== undefined) throw new ConfigError(`train.viewTargets is "${cfg.train.viewTargets}", but the store ${store?.dir ?? storeDir ?? '(none)'} has no views (teacherLogits.views)`);
    return;
  }
  if (views.column !== feature.name) {
    throw new ConfigError(`the store ${store!.dir} holds views of column "${views.column}", but the student reads "${feature.name}" (student.feature); the student must see the views the teacher saw`);
  }
  const targets = cfg.train?.viewTargets ?? 'consistent';
  const what = cfg.train!.alpha >= 1 ? 'hard labels only' : targets === 'consistent' ? "that view's teacher targets (consistent)" : "view 0's teacher targets (view0: inconsistent baseline)";
  reporter.info(`view store (K = ${views.count}, ${views.augment.kind}): every epoch shows each training row as one seeded view, rebuilt from its stored parameters, trained against ${what}`);
}
