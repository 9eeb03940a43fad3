/** Number formatting shared by the report renderers. */

/** 0.9734 -> "97.34%" (digits after the point; default 2). */
export function pct(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(digits)}%`;
}

/** A difference of shares in percentage points, signed: -0.0123 -> "-1.23 pt". */
export function pts(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  const v = (100 * x).toFixed(digits);
  return `${x > 0 ? '+' : ''}${v} pt`;
}

/** A plain number with `digits` significant decimals; "n/a" for null/NaN. */
export function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

/** Milliseconds: 0.0123 -> "0.012 ms", 12.3 -> "12.3 ms". */
export function ms(x: number): string {
  return `${x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0)} ms`;
}

/** Bytes as KiB/MiB. */
export function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** A count with thousands separators: 1234567 -> "1,234,567". */
export function count(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A ratio: 3.14159 -> "3.1x"; null -> "n/a". */
export function times(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x`;
}

/** A threshold tau: "0.9953"; Infinity/null -> "defer all". */
export function tau(x: number | null): string {
  return x === null || !Number.isFinite(x) ? 'defer all' : x === 0 ? '0 (never defer)' : x.toPrecision(4);
}
