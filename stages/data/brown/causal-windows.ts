/** One window of a causal-LM token dataset. */
export interface CausalWindow {
  /** Token ids, right-padded with `padId` to the context length. */
  ids: Int32Array;
  /** Real tokens (the rest is padding). */
  length: number;
}

/** Windowing rule of a causal-LM dataset (data_spec.md of lm-brown, "Windows"). */
export interface CausalWindowRule {
  context: number;
  stride: number;
  /** A window with fewer real tokens is dropped (2: at least one next-token target). */
  minTokens: number;
  padId: number;
}

/**
 * Cuts one document's token ids into windows: window k covers `[k*stride, k*stride + context)` clipped to
 * the document, for k = 0, 1, ... while it starts inside the document; it stops after the window that
 * reaches the end. A window with fewer than `minTokens` real tokens ends the document (dropped). Windows
 * never cross documents. The twin of build_data.py's `windows_of`.
 */
export function causalWindows(ids: ArrayLike<number>, rule: CausalWindowRule): CausalWindow[] {
  const out: CausalWindow[] = [];
  for (let start = 0; start < ids.length; start += rule.stride) {
    const end = Math.min(ids.length, start + rule.context);
    if (end - start < rule.minTokens) break;
    const row = new Int32Array(rule.context).fill(rule.padId);
    for (let i = start; i < end; i++) row[i - start] = ids[i]!;
    out.push({ ids: row, length: end - start });
    if (start + rule.context >= ids.length) break;
  }
  return out;
}
