/** Least-squares straight lines through measured points, for t(n) = a + b·x with x = n or ln n. */

export interface Fit {
  a: number;
  b: number;
  /** Coefficient of determination: 1 is a perfect fit. */
  r2: number;
}

export function leastSquares(xs: number[], ys: number[]): Fit {
  const n = xs.length;
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  const a = my - b * mx;
  const ssTot = ys.reduce((s, y) => s + (y - my) ** 2, 0);
  const ssRes = ys.reduce((s, y, i) => s + (y - (a + b * xs[i]!)) ** 2, 0);
  return { a, b, r2: ssTot === 0 ? 1 : 1 - ssRes / ssTot };
}

/** t = a + b·n */
export function linearFit(ns: number[], ts: number[]): Fit {
  return leastSquares(ns, ts);
}

/** t = a + b·ln n (natural logarithm) */
export function logFit(ns: number[], ts: number[]): Fit {
  return leastSquares(ns.map(Math.log), ts);
}

export const evalLinear = (f: Fit, n: number) => f.a + f.b * n;
export const evalLog = (f: Fit, n: number) => f.a + f.b * Math.log(n);
