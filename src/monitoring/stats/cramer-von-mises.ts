// Two-sample Cramér–von Mises test, a port of scipy.stats.cramervonmises_2samp (SciPy 1.17): the statistic T of
// Anderson (1962) from midranks; the exact p-value by Xiao, Gordon and Yakovlev's (2006) lattice-path recursion when both
// samples have at most 20 values, otherwise Anderson's normalised statistic against the limiting distribution of the
// one-sample statistic (Csörgő and Faraway 1996, the series SciPy sums until a term is below 1e-7).
import { logGamma } from './special-functions.js';
import { StatsInputError } from './stats-input-error.js';
import { requireFiniteSample, sortedCopy, type Sample } from './validate.js';

export const cramerVonMisesMethods = ['auto', 'exact', 'asymptotic'] as const;
export type CramerVonMisesMethod = (typeof cramerVonMisesMethods)[number];

export interface CramerVonMisesResult {
  /** T = U / (n·m·N) − (4nm − 1) / (6N), U from the midranks of each sample in the pooled one. */
  readonly statistic: number;
  readonly pValue: number;
  readonly method: 'exact' | 'asymptotic';
}

/**
 * K_ν(q)·e^q, the exponentially scaled modified Bessel function of the second kind, from K_ν(q) = ∫₀^∞ e^(−q cosh t)
 * cosh(νt) dt by the trapezoidal rule (spectrally accurate for this analytic, doubly exponentially decaying integrand).
 */
export function besselKScaled(nu: number, q: number): number {
  if (!(q > 0)) throw new StatsInputError(`besselKScaled needs q > 0 (got ${String(q)})`);
  // Integrate to where q·(cosh t − 1) exceeds 745 (e^−745 underflows), with steps fine enough for small q.
  const end = Math.acosh(1 + 745 / q);
  const steps = Math.max(200, Math.ceil(end / 0.005));
  const h = end / steps;
  let sum = 0.5; // t = 0: e^0 · cosh 0, halved
  for (let i = 1; i <= steps; i++) {
    const t = i * h;
    const f = Math.exp(-q * (Math.cosh(t) - 1)) * Math.cosh(nu * t);
    sum += i === steps ? f / 2 : f;
  }
  return sum * h;
}

/** CDF of the limiting one-sample Cramér–von Mises statistic (SciPy's _cdf_cvm_inf; not accurate near 1, x > 4). */
export function cramerVonMisesLimitCdf(x: number): number {
  if (!(x > 0)) return 0;
  let total = 0;
  for (let k = 0; ; k++) {
    const u = Math.exp(logGamma(k + 0.5) - logGamma(k + 1)) / (Math.PI ** 1.5 * Math.sqrt(x));
    const y = 4 * k + 1;
    const q = (y * y) / (16 * x);
    // e^(−q) · K_¼(q) = e^(−2q) · (K_¼(q) e^q).
    const z = u * Math.sqrt(y) * Math.exp(-2 * q) * besselKScaled(0.25, q);
    total += z;
    if (Math.abs(z) < 1e-7) return total;
  }
}

/** Midranks of the pooled sorted values (ties get the average of their ranks), as scipy.stats.rankdata(method='average'). */
function midranks(pooled: Float64Array): Float64Array {
  const order = Array.from(pooled.keys()).sort((i, j) => (pooled[i] as number) - (pooled[j] as number) || i - j);
  const ranks = new Float64Array(pooled.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && pooled[order[end + 1] as number] === pooled[order[start] as number]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k] as number] = rank;
    start = end + 1;
  }
  return ranks;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

/** P(U ≥ u) over all C(m+n, m) splits (SciPy's _pval_cvm_2samp_exact, Xiao, Gordon and Yakovlev's Algorithm 1). */
function exactPValue(s: number, m: number, n: number): number {
  const lcm = (m / gcd(m, n)) * n;
  const a = lcm / m;
  const b = lcm / n;
  const mn = m * n;
  const zeta = Math.floor((lcm * lcm * (m + n) * (6 * s - mn * (4 * mn - 1))) / (6 * mn * mn));
  // gs[v]: frequencies of the partial sums over lattice paths ending at (u, v).
  let gs: Map<number, number>[] = [new Map([[0, 1]]), ...Array.from({ length: m }, () => new Map<number, number>())];
  for (let u = 0; u <= n; u++) {
    const next: Map<number, number>[] = [];
    let tmp = new Map<number, number>();
    for (let v = 0; v <= m; v++) {
      const merged = new Map(tmp);
      for (const [value, count] of gs[v] as Map<number, number>) merged.set(value, (merged.get(value) ?? 0) + count);
      const step = (a * v - b * u) ** 2;
      tmp = new Map([...merged].map(([value, count]) => [value + step, count]));
      next.push(tmp);
    }
    gs = next;
  }
  let above = 0;
  for (const [value, count] of gs[m] as Map<number, number>) if (value >= zeta) above += count;
  return above / binomial(m + n, m);
}

/**
 * Two-sample Cramér–von Mises test (scipy.stats.cramervonmises_2samp): `auto` is exact when both samples have at most 20
 * values, asymptotic otherwise. Throws StatsInputError for samples of fewer than two values or with NaN/±Infinity.
 */
export function cramerVonMises2samp(x: Sample, y: Sample, options: { method?: CramerVonMisesMethod } = {}): CramerVonMisesResult {
  const nx = requireFiniteSample(x, 'first sample');
  const ny = requireFiniteSample(y, 'second sample');
  if (nx < 2 || ny < 2) throw new StatsInputError('the Cramér–von Mises test needs at least two values in each sample');
  const requested = options.method ?? 'auto';
  if (!cramerVonMisesMethods.includes(requested)) throw new StatsInputError(`unknown Cramér–von Mises method ${String(requested)}`);
  const method = requested === 'auto' ? (Math.max(nx, ny) > 20 ? 'asymptotic' : 'exact') : requested;
  const xs = sortedCopy(x);
  const ys = sortedCopy(y);
  const pooled = new Float64Array(nx + ny);
  pooled.set(xs, 0);
  pooled.set(ys, nx);
  const r = midranks(pooled);
  let sx = 0;
  for (let i = 0; i < nx; i++) sx += ((r[i] as number) - (i + 1)) ** 2;
  let sy = 0;
  for (let j = 0; j < ny; j++) sy += ((r[nx + j] as number) - (j + 1)) ** 2;
  const u = nx * sx + ny * sy;
  const k = nx * ny;
  const N = nx + ny;
  const t = u / (k * N) - (4 * k - 1) / (6 * N);
  if (method === 'exact') return { statistic: t, pValue: exactPValue(u, nx, ny), method };
  const et = (1 + 1 / N) / 6;
  const vt = ((N + 1) * (4 * k * N - 3 * (nx * nx + ny * ny) - 2 * k)) / (45 * N * N * 4 * k);
  const tn = 1 / 6 + (t - et) / Math.sqrt(45 * vt);
  const pValue = tn < 0.003 ? 1 : Math.max(0, 1 - cramerVonMisesLimitCdf(tn));
  return { statistic: t, pValue, method };
}
