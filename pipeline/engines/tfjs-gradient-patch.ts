/**
 * A patch of TensorFlow.js's BatchMatMul gradient for the wasm backend, applied explicitly (by
 * selectBackend in tfjs.ts), never as a side effect of an import.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * matMul with the transposes done explicitly on the wasm backend: tfjs-backend-wasm 4.22 runs
 * BatchMatMul through XNNPACK only without transpose flags and falls back to a naive loop with them
 * (~12x slower here), and backprop through a dense layer asks for exactly those (dX = dY W^T,
 * dW = X^T dY). Other backends get the flags as before. Measured in docs/benchmarks.md.
 */
function gradMatMul(x: tf.Tensor, y: tf.Tensor, transposeX: boolean, transposeY: boolean): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || (!transposeX && !transposeY)) return tf.matMul(x, y, transposeX, transposeY);
  const swapLast = (t: tf.Tensor): tf.Tensor => {
    const r = t.rank;
    return tf.transpose(t, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
  };
  return tf.matMul(transposeX ? swapLast(x) : x, transposeY ? swapLast(y) : y);
}

let applied = false;

/**
 * Registers the gradient of BatchMatMul as tfjs-core defines it (gradients/BatchMatMul_grad.ts), with
 * its transposed products routed through gradMatMul. On every backend but wasm the products are
 * the same calls as tfjs's own, so the patch changes nothing there. Idempotent; selectBackend applies
 * it before any training runs.
 */
export function applyTfjsGradientPatch(): void {
  if (applied) return;
  applied = true;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const dyT = dy as tf.Tensor;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return { a: () => gradMatMul(dyT, b, false, true), b: () => gradMatMul(a, dyT, true, false) };
      if (!transposeA && transposeB) return { a: () => gradMatMul(dyT, b, false, false), b: () => gradMatMul(dyT, a, true, false) };
      if (transposeA && !transposeB) return { a: () => gradMatMul(b, dyT, false, true), b: () => gradMatMul(a, dyT, false, false) };
      return { a: () => gradMatMul(b, dyT, true, true), b: () => gradMatMul(dyT, a, true, true) };
    },
  });
}
