/**
 * Worker assignment from flags, config and the environments of Kubernetes Indexed Jobs and Slurm job
 * arrays (variable names as documented by Kubernetes, "Indexed Job", and Slurm's sbatch, "OUTPUT
 * ENVIRONMENT VARIABLES"), and the round-robin shard ownership.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globalShards, ownedShards, resolveWorkerAssignment } from '../../../../stages/teacher-logits/worker-assignment.ts';

test('no flags, no config, no engine in the environment: a single writer (null)', () => {
  assert.equal(resolveWorkerAssignment({}, {}), null);
  assert.equal(resolveWorkerAssignment({}, { PATH: '/bin', SLURM_JOB_ID: '7' }), null, 'a plain Slurm job (no array) is not a worker');
});

test('flags: --num-shards 3 --shard-index 2', () => {
  assert.deepEqual(resolveWorkerAssignment({ numShards: 3, shardIndex: 2 }, {}), { index: 2, count: 3, source: 'flags', describe: '--shard-index 2, --num-shards 3' });
});

test('config teacherLogits.workers, and flags win over it', () => {
  assert.deepEqual(resolveWorkerAssignment({ config: { count: 4, index: 1 } }, {}), { index: 1, count: 4, source: 'config', describe: 'teacherLogits.workers.index 1, teacherLogits.workers.count 4' });
  assert.deepEqual(resolveWorkerAssignment({ numShards: 2, shardIndex: 0, config: { count: 4, index: 1 } }, {}), { index: 0, count: 2, source: 'flags', describe: '--shard-index 0, --num-shards 2' });
});

test('Kubernetes Indexed Job: JOB_COMPLETION_INDEX with the count from --num-shards or DISTILL_NUM_SHARDS', () => {
  assert.deepEqual(resolveWorkerAssignment({ numShards: 3 }, { JOB_COMPLETION_INDEX: '2' }), { index: 2, count: 3, source: 'kubernetes', describe: 'JOB_COMPLETION_INDEX=2, --num-shards 3' });
  assert.deepEqual(resolveWorkerAssignment({}, { JOB_COMPLETION_INDEX: '0', DISTILL_NUM_SHARDS: '5' }), { index: 0, count: 5, source: 'kubernetes', describe: 'JOB_COMPLETION_INDEX=0, DISTILL_NUM_SHARDS=5' });
  assert.deepEqual(resolveWorkerAssignment({ environment: 'kubernetes' }, { JOB_COMPLETION_INDEX: '1', DISTILL_NUM_SHARDS: '2' })?.index, 1);
});

test('Slurm job array: SLURM_ARRAY_TASK_ID, count from SLURM_ARRAY_TASK_COUNT or MIN/MAX, index relative to MIN', () => {
  assert.deepEqual(resolveWorkerAssignment({}, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '3' }), {
    index: 3,
    count: 4,
    source: 'slurm',
    describe: 'SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_COUNT=4',
  });
  // --array=1-8: task 1 is worker 0, 8 tasks.
  assert.deepEqual(resolveWorkerAssignment({}, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '8' }), {
    index: 0,
    count: 8,
    source: 'slurm',
    describe: 'SLURM_ARRAY_TASK_ID=1 - SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_MAX=8',
  });
  // --array=0-6:2 (tasks 0, 2, 4, 6): task 4 is worker 2 of 4.
  const stepped = resolveWorkerAssignment({}, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '6', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '4' });
  assert.deepEqual([stepped?.index, stepped?.count], [2, 4]);
  // The count from --num-shards, agreeing with the array.
  assert.deepEqual(resolveWorkerAssignment({ numShards: 4 }, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MAX: '3' })?.describe, 'SLURM_ARRAY_TASK_ID=2, --num-shards 4');
});

test('precedence: explicit flags win over either environment; --worker-env none ignores it', () => {
  const env = { JOB_COMPLETION_INDEX: '7', DISTILL_NUM_SHARDS: '9', SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '6' };
  assert.deepEqual(resolveWorkerAssignment({ numShards: 2, shardIndex: 1 }, env), { index: 1, count: 2, source: 'flags', describe: '--shard-index 1, --num-shards 2' });
  assert.equal(resolveWorkerAssignment({ environment: 'none' }, env), null);
  assert.equal(resolveWorkerAssignment({ config: { environment: 'none' } }, env), null);
  assert.deepEqual(resolveWorkerAssignment({ environment: 'slurm' }, env), { index: 5, count: 6, source: 'slurm', describe: 'SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_COUNT=6' });
  // --shard-index alone takes the count from the environment.
  assert.deepEqual(resolveWorkerAssignment({ shardIndex: 0 }, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 0, count: 4, source: 'flags', describe: '--shard-index 0, SLURM_ARRAY_TASK_COUNT=4' });
});

test('BAD CALL conflicting, missing and out-of-range values are ConfigErrors (exit 2) naming the values', () => {
  const bad = (inputs: Parameters<typeof resolveWorkerAssignment>[0], env: NodeJS.ProcessEnv, message: RegExp): void => {
    assert.throws(() => resolveWorkerAssignment(inputs, env), (err: Error & { exitCode?: number }) => {
      assert.equal(err.name, 'ConfigError');
      assert.equal(err.exitCode, 2);
      assert.match(err.message, message);
      return true;
    });
  };
  bad({ numShards: 3, shardIndex: 3 }, {}, /worker index out of range: --shard-index 3, but there are 3 workers \(--num-shards 3\); the index must be in 0\.\.2/);
  bad({ numShards: 0, shardIndex: 0 }, {}, /--num-shards must be an integer >= 1, but got 0/);
  bad({ numShards: 2, shardIndex: 1.5 }, {}, /--shard-index must be an integer >= 0, but got 1\.5/);
  bad({ numShards: 2, shardIndex: -1 }, {}, /--shard-index must be an integer >= 0, but got -1/);
  bad({ shardIndex: 1 }, {}, /--shard-index 1 is given, but not the number of workers: pass --num-shards N or set DISTILL_NUM_SHARDS/);
  bad({ numShards: 4 }, {}, /--num-shards 4 is given, but not this worker's index: pass --shard-index i \(0\.\.3\)/);
  bad({}, { JOB_COMPLETION_INDEX: '2' }, /JOB_COMPLETION_INDEX=2 is given, but not the number of workers: .*Kubernetes does not expose the completion count: pass the Job's spec\.completions as --num-shards or DISTILL_NUM_SHARDS/);
  bad({ numShards: 2 }, { JOB_COMPLETION_INDEX: '2' }, /worker index out of range: JOB_COMPLETION_INDEX=2, but there are 2 workers \(--num-shards 2\)/);
  bad({}, { JOB_COMPLETION_INDEX: 'two', DISTILL_NUM_SHARDS: '3' }, /environment variable JOB_COMPLETION_INDEX must be a non-negative integer, but got "two"/);
  bad({}, { SLURM_ARRAY_TASK_ID: '-1', SLURM_ARRAY_TASK_COUNT: '3' }, /SLURM_ARRAY_TASK_ID must be a non-negative integer, but got "-1"/);
  bad({}, { JOB_COMPLETION_INDEX: '0', DISTILL_NUM_SHARDS: '2', SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' }, /both a Kubernetes Indexed Job \(JOB_COMPLETION_INDEX=0\) and a Slurm job array \(SLURM_ARRAY_TASK_ID=0\).*--worker-env kubernetes\|slurm/);
  bad({ numShards: 3 }, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' }, /conflicting worker counts: --num-shards 3, but the Slurm job array says SLURM_ARRAY_TASK_COUNT=4/);
  bad({ numShards: 3 }, { JOB_COMPLETION_INDEX: '1', DISTILL_NUM_SHARDS: '4' }, /conflicting worker counts: --num-shards 3, but the environment says DISTILL_NUM_SHARDS=4/);
  // --array=1,3,7: not a range, the indices would not tile 0..N-1.
  bad({}, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '7' }, /the Slurm job array is not a contiguous range: SLURM_ARRAY_TASK_COUNT=3, but SLURM_ARRAY_TASK_MIN=1 and SLURM_ARRAY_TASK_MAX=7 span 7 tasks; submit it as --array=0-\(N-1\)/);
  bad({}, { SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '3' }, /SLURM_ARRAY_TASK_ID=9 is not in the job array 0-3/);
  bad({ environment: 'slurm' }, { JOB_COMPLETION_INDEX: '0' }, /--worker-env slurm: SLURM_ARRAY_TASK_ID is not set/);
});

test('shard ownership: round-robin over (split, shard) pairs; each shard has exactly one owner whatever N', () => {
  const all = globalShards([{ split: 'train', rows: 1000 }, { split: 'test', rows: 300 }], 256);
  assert.deepEqual(all.map((g) => `${g.split}:${g.index}:${g.rowStart}-${g.rowEnd}`), ['train:0:0-256', 'train:1:256-512', 'train:2:512-768', 'train:3:768-1000', 'test:0:0-256', 'test:1:256-300']);
  assert.deepEqual(ownedShards(all, { index: 1, count: 3 }).map((g) => `${g.split}:${g.index}`), ['train:1', 'test:0']);
  for (const count of [1, 2, 3, 4, 6, 7]) {
    const owners = all.map(() => 0);
    for (let i = 0; i < count; i++) for (const g of ownedShards(all, { index: i, count })) owners[all.indexOf(g)]! += 1;
    assert.deepEqual(owners, all.map(() => 1), `N = ${count}`);
  }
  assert.deepEqual(ownedShards(all, { index: 6, count: 7 }), [], 'more workers than shards: the last ones own nothing');
});
