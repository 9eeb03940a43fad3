/**
 * The oneDNN decision (docs/decisions.md): libtensorflow keeps oneDNN on (15-35% faster MLP training
 * here), and the one kernel known to be wrong with it — Conv2DBackpropInput with a 1-in/1-out-
 * channel filter, i.e. conv2dTranspose and the input gradient of a single-channel conv2d — is checked
 * when the backend comes up and routed through a zero second channel when wrong.
 *
 * The detection is pinned on tfjs-node itself in child processes (TF_ENABLE_ONEDNN_OPTS is read when
 * libtensorflow loads): with oneDNN off the raw kernel is right; with it on, on TensorFlow 2.21, it is
 * wrong (when a TensorFlow upgrade fixes it, this test says so and the workaround can go). Then, as the
 * project runs the backend, the values are checked against tfjs's cpu backend and exact answers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, test } from 'node:test';
import { selectBackend, tf } from '../../../../pipeline/engines/tfjs.ts';
import type { BackendChoice } from '../../../../pipeline/engines/tfjs.ts';
import { SINGLE_CHANNEL_WORKAROUND, onednnEnabled } from '../../../../pipeline/engines/tensorflow-onednn.ts';
import { projectRoot } from '../../../../pipeline/provenance.ts';
import { buildStudent } from '../../../../stages/train-student/build-student.ts';
import { testBackends } from '../../../helpers/test-backends.ts';

test('TF_ENABLE_ONEDNN_OPTS is read as TensorFlow reads it: on unless 0 or false', () => {
  assert.deepEqual(
    [undefined, '', '1', 'true', '0', 'false', 'FALSE', ' 0 '].map((v) => onednnEnabled(v === undefined ? {} : { TF_ENABLE_ONEDNN_OPTS: v })),
    [true, true, true, true, false, false, false, false],
  );
});

const tensorflow = testBackends().find((b) => b.name === 'tensorflow');
const skip = tensorflow ? tensorflow.skip : 'tensorflow is not in DISTILL_TEST_BACKENDS';

/** The raw tfjs-node kernel (no project code) in a fresh process with the given oneDNN setting. */
function rawConvTranspose(onednn: '0' | '1'): { version: string; values: number[] } {
  const script = `const tf = await import('@tensorflow/tfjs-node');
    const y = tf.conv2dTranspose(tf.tensor4d([2], [1, 1, 1, 1]), tf.tensor4d([3, 1, 5, 0], [2, 2, 1, 1]), [1, 2, 2, 1], 1, 'valid');
    console.log(JSON.stringify({ version: tf.backend().binding.TF_Version, values: Array.from(y.dataSync()) }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: onednn }, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop()!) as { version: string; values: number[] };
}

/** Max relative difference of f's gradients (w.r.t. every input) between the tensorflow and cpu backends. */
async function gradientGap(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[]): Promise<number> {
  const host = inputs.map((t) => ({ v: t.dataSync().slice(), shape: t.shape }));
  const grads: Record<string, Float32Array[]> = {};
  for (const b of ['cpu', 'tensorflow']) {
    await tf.setBackend(b);
    grads[b] = tf.tidy(() => tf.grads(f)(host.map((h) => tf.tensor(h.v, h.shape))).map((g) => g.dataSync() as Float32Array));
  }
  let gap = 0;
  grads.cpu!.forEach((r, i) => r.forEach((e, j) => (gap = Math.max(gap, Math.abs(grads.tensorflow![i]![j]! - e) / (1 + Math.abs(e))))));
  return gap;
}

describe('on tensorflow', { skip }, () => {
  let choice: BackendChoice;
  before(async () => {
    choice = await selectBackend('tensorflow');
  });

  test('detection, pinned on tfjs-node alone: right with oneDNN off; wrong with it on (TensorFlow 2.21)', () => {
    const off = rawConvTranspose('0');
    assert.deepEqual(off.values, [6, 2, 10, 0]);
    const on = rawConvTranspose('1');
    if (on.version === '2.21.0') assert.deepEqual(on.values, [6, 0, 0, 0], 'TensorFlow 2.21 with oneDNN: the known wrong values');
    else console.log(`# TensorFlow ${on.version} with oneDNN gives ${JSON.stringify(on.values)} (2.21 gave [6, 0, 0, 0])`);
  });

  test('the project default keeps oneDNN on and records the workaround exactly when the kernel is wrong', () => {
    assert.equal(choice.onednn, onednnEnabled());
    const wrongHere = choice.onednn && choice.tensorflowVersion === '2.21.0';
    if (wrongHere) assert.deepEqual(choice.workarounds, [SINGLE_CHANNEL_WORKAROUND]);
    if (!choice.onednn) assert.deepEqual(choice.workarounds, []);
  });

  test('as the project runs it: conv2dTranspose and single-channel conv2d input gradients are right', async () => {
    await tf.setBackend('tensorflow');
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => tf.conv2dTranspose(tf.tensor4d([2], [1, 1, 1, 1]), tf.tensor4d([3, 1, 5, 0], [2, 2, 1, 1]), [1, 2, 2, 1], 1, 'valid').dataSync());
    assert.deepEqual(Array.from(y), [6, 2, 10, 0]);
    for (const [hw, k, stride, pad] of [[3, 2, 1, 'valid'], [14, 3, 1, 'same'], [28, 3, 1, 'same'], [7, 3, 2, 'same'], [5, 2, 2, 'valid']] as const) {
      const x = tf.randomNormal([2, hw, hw, 1], 0, 1, 'float32', hw);
      const w = tf.randomNormal([k, k, 1, 1], 0, 1, 'float32', k);
      const gap = await gradientGap((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).square().sum(), [x, w]);
      tf.dispose([x, w]);
      assert.ok(gap < 1e-4, `conv2d ${hw}x${hw}, kernel ${k}, stride ${stride}, ${pad}: gradient differs from the cpu backend by ${gap}`);
    }
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
  });

  test('a CNN student with single-filter conv blocks has the cpu backend gradients on tensorflow', async () => {
    await tf.setBackend('tensorflow');
    const student = buildStudent({ arch: 'cnn', hidden: [8], activation: 'relu', dropout: 0, conv: [{ filters: 1, kernel: 3, pool: true }, { filters: 1, kernel: 3, pool: false }] }, { featureShape: [28, 28], classes: 3, seed: 4 });
    const x = tf.randomUniform([4, 784], 0, 1, 'float32', 9);
    // The second conv's input gradient is the single-channel Conv2DBackpropInput.
    const gap = await gradientGap((xx) => tf.tidy(() => (student.apply(xx as tf.Tensor2D) as tf.Tensor).square().sum() as tf.Scalar), [x]);
    tf.dispose(x);
    student.model.dispose();
    assert.ok(gap < 1e-4, `input gradient differs from the cpu backend by ${gap}`);
  });
});
