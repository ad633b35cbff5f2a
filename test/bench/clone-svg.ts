/** A hand-written SVG of t(n) for parallel cloning: one panel per method, points and both fitted curves. */
import { evalLinear, evalLog, type Fit } from './fit';

export interface Series {
  method: string;
  ns: number[];
  seconds: number[];
  linear: Fit;
  log: Fit;
}

const PANEL_W = 460;
const PANEL_H = 330;
const M = { left: 62, right: 16, top: 40, bottom: 84 };
const COLOURS = { points: '#1f5fbf', linear: '#c0392b', log: '#27ae60' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (x: number) => (Math.abs(x) >= 10 ? x.toFixed(1) : Math.abs(x) >= 0.1 ? x.toFixed(2) : x.toFixed(4));

/** Round axis maximum and step: 1, 2 or 5 times a power of ten, about five ticks. */
function niceAxis(max: number): { top: number; step: number } {
  const raw = (max || 1) / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * p).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

function panel(s: Series, x0: number): string {
  const nMax = Math.max(...s.ns);
  const curve = (f: (n: number) => number) =>
    Array.from({ length: 61 }, (_, i) => 1 + ((nMax - 1) * i) / 60).map((n) => [n, f(n)] as const);
  const lin = curve((n) => evalLinear(s.linear, n));
  const lg = curve((n) => evalLog(s.log, n));
  const { top, step } = niceAxis(Math.max(...s.seconds, ...lin.map((p) => p[1]), ...lg.map((p) => p[1])) * 1.05);
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const X = (n: number) => x0 + M.left + (n / nMax) * w;
  const Y = (t: number) => M.top + h - (Math.max(0, t) / top) * h;
  const path = (pts: ReadonlyArray<readonly [number, number]>) =>
    pts.map(([n, t], i) => `${i ? 'L' : 'M'}${X(n).toFixed(1)},${Y(t).toFixed(1)}`).join(' ');
  const out: string[] = [];
  out.push(`<text x="${x0 + PANEL_W / 2}" y="22" text-anchor="middle" font-weight="bold">${esc(s.method)}</text>`);
  out.push(`<line x1="${X(0)}" y1="${Y(0)}" x2="${X(nMax)}" y2="${Y(0)}" stroke="#333"/>`);
  out.push(`<line x1="${X(0)}" y1="${Y(0)}" x2="${X(0)}" y2="${Y(top)}" stroke="#333"/>`);
  for (let t = 0; t <= top + step / 2; t += step) {
    out.push(`<line x1="${X(0)}" y1="${Y(t)}" x2="${X(nMax)}" y2="${Y(t)}" stroke="#ddd"/>`);
    out.push(
      `<text x="${X(0) - 6}" y="${Y(t) + 4}" text-anchor="end">${t.toFixed(Math.max(0, -Math.floor(Math.log10(step))))}</text>`,
    );
  }
  for (const n of s.ns) out.push(`<text x="${X(n)}" y="${Y(0) + 16}" text-anchor="middle">${n}</text>`);
  out.push(`<text x="${X(nMax / 2)}" y="${Y(0) + 34}" text-anchor="middle">n (clones at once)</text>`);
  out.push(`<text transform="translate(${x0 + 16},${M.top + h / 2}) rotate(-90)" text-anchor="middle">t (s)</text>`);
  out.push(`<path d="${path(lin)}" fill="none" stroke="${COLOURS.linear}" stroke-width="1.5"/>`);
  out.push(`<path d="${path(lg)}" fill="none" stroke="${COLOURS.log}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  for (const [i, n] of s.ns.entries())
    out.push(`<circle cx="${X(n).toFixed(1)}" cy="${Y(s.seconds[i]!).toFixed(1)}" r="4" fill="${COLOURS.points}"/>`);
  const legendY = PANEL_H - 30;
  const legend = [
    [COLOURS.linear, '', `t = ${fmt(s.linear.a)} + ${fmt(s.linear.b)}·n   (R² ${s.linear.r2.toFixed(3)})`],
    [COLOURS.log, '6 4', `t = ${fmt(s.log.a)} + ${fmt(s.log.b)}·ln n   (R² ${s.log.r2.toFixed(3)})`],
  ];
  for (const [i, [colour, dash, label]] of legend.entries()) {
    const y = legendY + i * 16;
    out.push(
      `<line x1="${x0 + M.left}" y1="${y - 4}" x2="${x0 + M.left + 24}" y2="${y - 4}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="${dash}"/>`,
    );
    out.push(`<text x="${x0 + M.left + 30}" y="${y}">${esc(label!)}</text>`);
  }
  return out.join('\n');
}

/** The whole figure: panels side by side, a note on what was measured. */
export function cloneSvg(series: Series[], note: string): string {
  const width = PANEL_W * series.length;
  const height = PANEL_H + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...series.map((s, i) => panel(s, i * PANEL_W)),
    `<text x="8" y="${height - 6}" fill="#555">${esc(note)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
