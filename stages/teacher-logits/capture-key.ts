/**
 * The capture key moved to pipeline/store/capture-key.ts, where the consumers of a store (train-student,
 * evaluate, export, finalize) check a manifest against the keys its part records were written under.
 * Re-exported here for the stage's modules.
 */
export { cardContentSha256, diffCaptureKeys, keyOfManifest } from '../../pipeline/store/capture-key.ts';
export type { CaptureKey } from '../../pipeline/store/capture-key.ts';
