import { ConfigError } from '../errors.ts';

/** How a document's token sequence is cut into rows. */
export interface WindowOptions {
  /** Context L: the most tokens in one window. */
  context: number;
  /** Tokens between the starts of consecutive windows (stride = context: no overlap). */
  stride: number;
  /**
   * A window with fewer real tokens is dropped (causal LM: 2, since a window of one token has no
   * next-token target). Default 1.
   */
  minTokens?: number;
}

/** One window: tokens [start, end) of its document. */
export interface TokenWindow {
  start: number;
  end: number;
}

/** Checks window options; a bad value is a ConfigError naming the option. */
export function checkWindowOptions(opts: WindowOptions): void {
  if (!Number.isInteger(opts.context) || opts.context < 1) throw new ConfigError(`context must be a positive integer, but got ${opts.context}`);
  if (!Number.isInteger(opts.stride) || opts.stride < 1 || opts.stride > opts.context) {
    throw new ConfigError(`stride must be an integer in 1..context (${opts.context}), but got ${opts.stride}`);
  }
  const min = opts.minTokens ?? 1;
  if (!Number.isInteger(min) || min < 1 || min > opts.context) throw new ConfigError(`minTokens must be an integer in 1..context, but got ${min}`);
}

/**
 * The windows of a document of `n` tokens: window k covers [k*stride, min(k*stride + L, n)) for
 * k = 0, 1, ... while k*stride < n, stopping after the first window that reaches the end (with
 * stride < L a later window would lie inside it); windows with fewer than `minTokens` tokens are
 * dropped. With stride = L this is the lm-brown rule (artifacts/experiments/lm-brown/data_spec.md):
 * non-overlapping windows, the last one partial (padded later) unless it is shorter than minTokens.
 * Windows never cross documents: call this once per document.
 */
export function tokenWindows(n: number, opts: WindowOptions): TokenWindow[] {
  checkWindowOptions(opts);
  const min = opts.minTokens ?? 1;
  const out: TokenWindow[] = [];
  for (let start = 0; start < n; start += opts.stride) {
    const end = Math.min(start + opts.context, n);
    if (end - start >= min) out.push({ start, end });
    if (end === n) break;
  }
  return out;
}

/**
 * Causal-LM targets of a row: position t (0 <= t <= length-2) predicts the token at t+1; padding
 * positions and the last real position have none. Returns the number of target positions and, when
 * `into` is given (P = L-1 entries), writes there the target id per position or -100 (no target).
 */
export function causalTargets(inputIds: ArrayLike<number>, length: number, into?: Int32Array): number {
  if (into) {
    into.fill(-100);
    for (let t = 0; t + 1 < length; t++) into[t] = inputIds[t + 1]!;
  }
  return Math.max(0, length - 1);
}
