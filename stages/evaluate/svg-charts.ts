/**
 * Tiny inline-SVG charts for the HTML report: no library, no external asset, text as <text> so the
 * numbers are in the DOM. Coordinates are rounded to 0.1 px.
 */

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Report colours: teacher, student, baseline, reference lines. */
export const COLORS = { teacher: '#1f6fb4', student: '#d9480f', baseline: '#6c757d', reference: '#adb5bd', target: '#2b8a3e' } as const;

/** One axis. */
export interface Axis {
  label: string;
  min: number;
  max: number;
  /** Tick values; default 5 evenly spaced. */
  ticks?: number[];
  /** Tick label; default 2 decimals. */
  format?: (v: number) => string;
}

/** One line (or point set). */
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
  /** Draw points; default true. */
  markers?: boolean;
  /** Draw the line; default true. */
  line?: boolean;
}

/** Options of {@link lineChartSvg}. */
export interface LineChartOptions {
  title: string;
  width?: number;
  height?: number;
  x: Axis;
  y: Axis;
  series: Series[];
  /** Horizontal reference lines. */
  hlines?: { y: number; label: string; color: string }[];
  /** Highlighted points with a label. */
  highlights?: { x: number; y: number; label: string; color: string }[];
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

function ticksOf(a: Axis): number[] {
  if (a.ticks) return a.ticks;
  return Array.from({ length: 5 }, (_, i) => a.min + ((a.max - a.min) * i) / 4);
}

/** A line chart with axes, ticks, legend, optional reference lines and highlighted points. */
export function lineChartSvg(o: LineChartOptions): string {
  const W = o.width ?? 420;
  const H = o.height ?? 280;
  const m = { l: 56, r: 12, t: 28, b: 44 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const sx = (v: number): number => m.l + ((v - o.x.min) / (o.x.max - o.x.min || 1)) * pw;
  const sy = (v: number): number => m.t + ph - ((v - o.y.min) / (o.y.max - o.y.min || 1)) * ph;
  const fx = o.x.format ?? ((v: number) => v.toFixed(2));
  const fy = o.y.format ?? ((v: number) => v.toFixed(2));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}">`);
  parts.push(`<title>${escapeXml(o.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(o.title)}</text>`);
  for (const t of ticksOf(o.y)) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${r1(sy(t))}" y2="${r1(sy(t))}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 4}" y="${r1(sy(t) + 4)}" text-anchor="end" font-size="10">${escapeXml(fy(t))}</text>`);
  }
  for (const t of ticksOf(o.x)) {
    parts.push(`<line x1="${r1(sx(t))}" x2="${r1(sx(t))}" y1="${m.t + ph}" y2="${m.t + ph + 4}" stroke="#555"/>`);
    parts.push(`<text x="${r1(sx(t))}" y="${m.t + ph + 15}" text-anchor="middle" font-size="10">${escapeXml(fx(t))}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#555"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${escapeXml(o.x.label)}</text>`);
  parts.push(`<text x="12" y="${m.t + ph / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${m.t + ph / 2})">${escapeXml(o.y.label)}</text>`);
  for (const h of o.hlines ?? []) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${r1(sy(h.y))}" y2="${r1(sy(h.y))}" stroke="${h.color}" stroke-dasharray="5 3"/>`);
    parts.push(`<text x="${m.l + pw - 4}" y="${r1(sy(h.y) - 4)}" text-anchor="end" font-size="10" fill="${h.color}">${escapeXml(h.label)}</text>`);
  }
  const clampY = (v: number): number => Math.min(o.y.max, Math.max(o.y.min, v));
  for (const s of o.series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${r1(sx(x))},${r1(sy(clampY(y)))}`);
    if (s.line !== false && pts.length > 1) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    if (s.markers !== false) for (const p of pts) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
  }
  for (const h of o.highlights ?? []) {
    parts.push(`<circle cx="${r1(sx(h.x))}" cy="${r1(sy(clampY(h.y)))}" r="6" fill="none" stroke="${h.color}" stroke-width="2"/>`);
    parts.push(`<text x="${r1(sx(h.x) + 8)}" y="${r1(sy(clampY(h.y)) + 14)}" font-size="10" fill="${h.color}">${escapeXml(h.label)}</text>`);
  }
  o.series.forEach((s, i) => {
    const y = m.t + 8 + i * 14;
    parts.push(`<line x1="${m.l + 8}" x2="${m.l + 24}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    parts.push(`<text x="${m.l + 28}" y="${y + 4}" font-size="10">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Options of {@link barChartSvg}. */
export interface BarChartOptions {
  title: string;
  width?: number;
  height?: number;
  categories: string[];
  series: { name: string; color: string; values: (number | null)[] }[];
  y: Axis;
}

/** Grouped vertical bars, one group per category. */
export function barChartSvg(o: BarChartOptions): string {
  const W = o.width ?? Math.max(420, 60 + o.categories.length * 14 * (o.series.length + 1));
  const H = o.height ?? 280;
  const m = { l: 56, r: 12, t: 28, b: 44 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const sy = (v: number): number => m.t + ph - ((Math.min(o.y.max, Math.max(o.y.min, v)) - o.y.min) / (o.y.max - o.y.min || 1)) * ph;
  const fy = o.y.format ?? ((v: number) => v.toFixed(2));
  const group = pw / Math.max(1, o.categories.length);
  const bar = (group * 0.8) / Math.max(1, o.series.length);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}">`);
  parts.push(`<title>${escapeXml(o.title)}</title><rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(o.title)}</text>`);
  for (const t of ticksOf(o.y)) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${r1(sy(t))}" y2="${r1(sy(t))}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 4}" y="${r1(sy(t) + 4)}" text-anchor="end" font-size="10">${escapeXml(fy(t))}</text>`);
  }
  o.categories.forEach((c, i) => {
    const gx = m.l + i * group + group * 0.1;
    o.series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const y = sy(v);
      parts.push(`<rect x="${r1(gx + k * bar)}" y="${r1(y)}" width="${r1(bar * 0.95)}" height="${r1(m.t + ph - y)}" fill="${s.color}"><title>${escapeXml(`${s.name} ${c}: ${fy(v)}`)}</title></rect>`);
    });
    parts.push(`<text x="${r1(m.l + (i + 0.5) * group)}" y="${m.t + ph + 14}" text-anchor="middle" font-size="10">${escapeXml(c.length > 10 ? `${c.slice(0, 9)}…` : c)}</text>`);
  });
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#555"/>`);
  parts.push(`<text x="12" y="${m.t + ph / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${m.t + ph / 2})">${escapeXml(o.y.label)}</text>`);
  o.series.forEach((s, i) => {
    const x = m.l + 8 + i * 90;
    parts.push(`<rect x="${x}" y="${H - 14}" width="10" height="10" fill="${s.color}"/><text x="${x + 14}" y="${H - 5}" font-size="10">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
