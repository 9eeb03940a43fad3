/** One line of the reproduction's comparison table. */
export interface ComparisonRow {
  /** The artifact: a store shard or a run, workspace-relative. */
  artifact: string;
  /** What is compared: sha256, logits, accuracy, ... */
  check: string;
  recorded: string;
  reproduced: string;
  /** The rule applied, e.g. "identical" or "|d| <= 0.005". */
  tolerance: string;
  /** ok: equal or within tolerance; diverged: fails the run; info: shown, not judged (e.g. no record). */
  verdict: 'ok' | 'diverged' | 'info';
  /** Why, when it is not plain equality. */
  note?: string;
}

/** The rows as an aligned text table, with a closing count of divergences. */
export function formatComparisonTable(rows: readonly ComparisonRow[]): string {
  const head = ['artifact', 'check', 'recorded', 'reproduced', 'tolerance', 'result'];
  const cells = rows.map((r) => [r.artifact, r.check, r.recorded, r.reproduced, r.tolerance, r.verdict === 'ok' ? 'ok' : r.verdict === 'info' ? 'info' : 'DIVERGED']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  for (const r of rows) if (r.note) out.push(`  ${r.artifact} ${r.check}: ${r.note}`);
  const diverged = rows.filter((r) => r.verdict === 'diverged').length;
  out.push(diverged === 0 ? `reproduced: all ${rows.filter((r) => r.verdict === 'ok').length} comparisons within tolerance` : `DIVERGED: ${diverged} of ${rows.length} comparisons`);
  return out.join('\n');
}
