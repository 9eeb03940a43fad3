/**
 * oneDNN in the libtensorflow behind the tensorflow backend, and the one wrong kernel we know of.
 *
 * TensorFlow 2.21 (the tensorflow-cpu wheel that `make tfjs-node` builds against) runs with oneDNN by
 * default on x86-64. With oneDNN on, Conv2DBackpropInput — tfjs's conv2dTranspose, and the input
 * gradient of every conv2d — gives wrong values when the filter has one input and one output channel
 * (measured: 1x1 to 28x28, kernels of 2 and more; conv2dTranspose of a 1x1 input with a 2x2 filter
 * gives [6, 0, 0, 0] instead of [6, 2, 10, 0]). Turning oneDNN off fixes it but costs the MLP students
 * 15-35% of their training speed (docs/decisions.md), so oneDNN stays on and this module checks
 * the kernel once the backend is up; when the check fails it routes that case through a second,
 * all-zero channel, which the kernel gets right and which adds exactly nothing to the result.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Whether libtensorflow runs with oneDNN: TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, when it loads,
 * as a boolean ("0"/"false" off, "1"/"true" on), and defaults to on for x86-64 Linux builds.
 */
export function onednnEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.TF_ENABLE_ONEDNN_OPTS?.trim().toLowerCase();
  return !(v === '0' || v === 'false');
}

/** What the workaround is, as recorded in run manifests. */
export const SINGLE_CHANNEL_WORKAROUND = 'Conv2DBackpropInput with a 1-in/1-out-channel filter computed through a zero second channel (oneDNN gives wrong values)';

/**
 * conv2dTranspose of a 1x1 single-channel input (2) with a 2x2 filter [3, 1, 5, 0], stride 1, valid
 * padding: tfjs-core's own test case, whose exact answer is [6, 2, 10, 0].
 */
export function singleChannelConvTransposeIsCorrect(): boolean {
  const v = tf.tidy(() => tf.conv2dTranspose(tf.tensor4d([2], [1, 1, 1, 1]), tf.tensor4d([3, 1, 5, 0], [2, 2, 1, 1]), [1, 2, 2, 1], 1, 'valid').dataSync());
  return [6, 2, 10, 0].every((e, i) => v[i] === e);
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Runs another kernel of the same backend on TensorInfos (as tfjs-node's own kernels do). */
function runKernel(name: string, args: KernelArgs, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: tf.NamedAttrMap): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'tensorflow');
  if (!kernel) throw new Error(`the tensorflow backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, attrs, backend: args.backend }) as tf.TensorInfo;
}

/**
 * Checks the tensorflow backend's kernels (it must be the current backend) and installs the
 * workaround for each one found wrong. Idempotent.
 *
 * @returns the workarounds in force (empty when every check passed).
 */
export function checkTensorflowKernels(): string[] {
  const original = tf.getKernel('Conv2DBackpropInput', 'tensorflow');
  if (!original) return [];
  if ((original.kernelFunc as { distillWorkaround?: boolean }).distillWorkaround) return [SINGLE_CHANNEL_WORKAROUND];
  if (singleChannelConvTransposeIsCorrect()) return [];
  const kernelFunc: tf.KernelFunc & { distillWorkaround?: boolean } = (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const nhwc = (args.attrs as { dataFormat?: string }).dataFormat !== 'NCHW';
    if (!nhwc || filter.shape[2] !== 1 || filter.shape[3] !== 1) return original.kernelFunc(args);
    const backend = args.backend as tf.KernelBackend;
    const temps: tf.TensorInfo[] = [];
    const pad = (t: tf.TensorInfo): tf.TensorInfo => {
      const zero = runKernel('ZerosLike', args, { x: t }, {});
      const both = runKernel('Concat', args, [t, zero], { axis: 3 });
      temps.push(zero, both);
      return both;
    };
    try {
      return original.kernelFunc({ ...args, inputs: { dy: pad(dy), filter: pad(filter) } });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  kernelFunc.distillWorkaround = true;
  tf.unregisterKernel('Conv2DBackpropInput', 'tensorflow');
  tf.registerKernel({ ...original, kernelFunc });
  return [SINGLE_CHANNEL_WORKAROUND];
}
