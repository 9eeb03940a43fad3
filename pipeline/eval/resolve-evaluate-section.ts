import type { EvaluateSection } from '../config/experiment-config.ts';

/** The evaluate section's defaults (the same as schemas/experiment.schema.json's). */
export const EVALUATE_DEFAULTS: Readonly<EvaluateSection> = Object.freeze<EvaluateSection>({
  severities: [1, 2, 3, 4, 5],
  corruptionRows: 2000,
  tokenCorruptionRows: 128,
  batchSize: 256,
  device: 'cpu',
  intraOpThreads: 1,
  latencyRuns: 200,
  throughputBatches: 20,
});

/** The evaluate section with defaults for what is missing (the config may have no section at all). */
export function resolveEvaluateSection(section: Partial<EvaluateSection> | undefined): EvaluateSection {
  return { ...EVALUATE_DEFAULTS, ...section } as EvaluateSection;
}
