/**
 * The scale-out examples in docs/deploy/ (README "When one machine is not enough"): the Kubernetes
 * manifests parse as YAML and wire an Indexed Job, a ReadWriteMany volume and a finalize Job
 * together; the Slurm scripts pass `bash -n` and chain the finalize job with afterok. The environment
 * each engine gives a worker resolves to the expected worker (stages/teacher-logits/worker-assignment.ts).
 *
 * YAML is parsed by js-yaml (a dev dependency).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadAll } from 'js-yaml';
import { projectRoot } from '../../../pipeline/provenance.ts';
import { resolveWorkerAssignment } from '../../../stages/teacher-logits/worker-assignment.ts';

const deploy = join(projectRoot, 'docs/deploy');

/** Every document of a YAML file (js-yaml, a dev dependency). */
function parseYamlDocs(file: string): unknown[] {
  return loadAll(readFileSync(file, 'utf8'));
}

interface K8sDoc {
  kind: string;
  metadata: { name: string };
  spec: {
    accessModes?: string[];
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    template?: { spec: { restartPolicy: string; containers: { args: string[]; env?: { name: string; value: string }[]; volumeMounts: { name: string; mountPath: string }[]; workingDir: string }[]; volumes: { name: string; persistentVolumeClaim: { claimName: string } }[] } };
  };
}

test('Kubernetes: an Indexed Job on a ReadWriteMany claim, DISTILL_NUM_SHARDS = completions, then a finalize Job on the same claim', async () => {
  const jobDocs = parseYamlDocs(join(deploy, 'k8s/teacher-logits-job.yaml')) as K8sDoc[];
  const finDocs = parseYamlDocs(join(deploy, 'k8s/finalize-job.yaml')) as K8sDoc[];
  assert.deepEqual(jobDocs.map((d) => d.kind), ['PersistentVolumeClaim', 'Job']);
  const [pvc, job] = jobDocs as [K8sDoc, K8sDoc];
  assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany']);
  assert.equal(job.spec.completionMode, 'Indexed');
  assert.equal(job.spec.completions, 8);
  assert.equal(job.spec.parallelism, 8);
  const worker = job.spec.template!.spec.containers[0]!;
  assert.deepEqual(worker.args.slice(0, 3), ['teacher-logits', '--config', 'artifacts/experiments/mnist-kd/experiment.json']);
  assert.deepEqual(worker.args.slice(3, 5), ['--device', 'cuda']);
  const env = Object.fromEntries((worker.env ?? []).map((e) => [e.name, e.value]));
  assert.equal(env.DISTILL_NUM_SHARDS, String(job.spec.completions));
  // What each pod resolves to: JOB_COMPLETION_INDEX from Kubernetes, the count from the manifest.
  for (let i = 0; i < job.spec.completions!; i++) {
    assert.deepEqual(resolveWorkerAssignment({}, { ...env, JOB_COMPLETION_INDEX: String(i) }), { index: i, count: 8, source: 'kubernetes', describe: `JOB_COMPLETION_INDEX=${i}, DISTILL_NUM_SHARDS=8` });
  }

  assert.deepEqual(finDocs.map((d) => d.kind), ['Job']);
  const fin = finDocs[0]!.spec.template!.spec;
  assert.deepEqual(fin.containers[0]!.args.slice(0, 2), ['finalize', 'artifacts/experiments/mnist-kd/store']);
  for (const spec of [job.spec.template!.spec, fin]) {
    assert.equal(spec.restartPolicy, 'Never');
    assert.equal(spec.volumes[0]!.persistentVolumeClaim.claimName, pvc.metadata.name);
    assert.equal(spec.containers[0]!.volumeMounts[0]!.mountPath, spec.containers[0]!.workingDir);
  }
});

test('Slurm: scripts pass bash -n; an --array=0-(N-1) of workers, then finalize with --dependency=afterok', async () => {
  for (const f of ['teacher-logits.sbatch', 'finalize.sbatch', 'submit.sh']) execFileSync('bash', ['-n', join(deploy, 'slurm', f)]);
  const sbatch = await readFile(join(deploy, 'slurm/teacher-logits.sbatch'), 'utf8');
  assert.match(sbatch, /^#SBATCH --array=0-7$/m);
  assert.match(sbatch, /^DEVICE=\$\{DEVICE:-cuda\}$/m);
  assert.match(sbatch, /^\$DISTILL teacher-logits --config "\$EXP" --device "\$DEVICE"/m);
  assert.match(await readFile(join(deploy, 'slurm/finalize.sbatch'), 'utf8'), /^\$DISTILL finalize "\$STORE"/m);
  const submit = await readFile(join(deploy, 'slurm/submit.sh'), 'utf8');
  assert.match(submit, /sbatch --parsable --export=ALL --array="0-\$\(\(N - 1\)\)"/);
  assert.match(submit, /sbatch --parsable --export=ALL --dependency="afterok:\$\{jobid\}"/);
  // What task 5 of `--array=0-7` resolves to, from the variables Slurm sets.
  const task = { SLURM_ARRAY_JOB_ID: '1234', SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '8', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '7', SLURM_ARRAY_TASK_STEP: '1' };
  assert.deepEqual(resolveWorkerAssignment({}, task), { index: 5, count: 8, source: 'slurm', describe: 'SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_COUNT=8' });
  // The documented one-task re-run: explicit flags win over the one-task array's environment.
  assert.deepEqual(resolveWorkerAssignment({ numShards: 8, shardIndex: 3 }, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '1' })?.index, 3);
});
