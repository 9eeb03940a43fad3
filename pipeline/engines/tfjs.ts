/**
 * The one module that touches TensorFlow.js. Stages import `tf` from here, never from
 * '@tensorflow/tfjs' directly, so that backend selection lives in one place.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
