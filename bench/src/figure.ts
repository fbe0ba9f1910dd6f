import type { LocalPipeline } from '@invoice-pipeline/local-stack';

/** One measured figure, printed beside its ceiling: the same work done the most direct way, in the same run. */
export interface Figure {
  /** Stable key in results.json, e.g. `stream-path.lines-per-second`. */
  id: string;
  label: string;
  value: number;
  unit: string;
  /** Whether more is better (rates) or less (times, latencies, memory). */
  better: 'higher' | 'lower';
  /** What the figure is, in numbers (e.g. "541,909 lines in 48.2 s"). */
  detail?: string;
  ceiling?: { label: string; value: number; detail?: string };
  /** The goal, as words and as the check it implies. */
  target?: { text: string; met: boolean };
}

export interface BenchContext {
  /** The small CI version: a slice of the data and short load runs; figures are printed, not asserted. */
  smoke: boolean;
  log(message: string): void;
}

export interface PipelineContext extends BenchContext {
  pipeline: LocalPipeline;
  /** Seconds from startLocalPipeline() to a serving pipeline. */
  startupSeconds: number;
}

/**
 * A benchmark: one module under figures/, listed in figures/index.ts. `needs: 'pipeline'` benchmarks share one
 * offline pipeline, started empty, and run in list order (the stream path first, while the stack is empty).
 */
export type Bench =
  | { id: string; needs: 'nothing'; run(context: BenchContext): Promise<Figure[]> }
  | { id: string; needs: 'pipeline'; run(context: PipelineContext): Promise<Figure[]> };

/** Ratio of a figure to its ceiling, oriented so that 1 means "as good as the ceiling" and 0.5 "half as good". */
export function ratioToCeiling(figure: Figure): number | undefined {
  if (!figure.ceiling || figure.ceiling.value === 0 || figure.value === 0) return undefined;
  return figure.better === 'higher' ? figure.value / figure.ceiling.value : figure.ceiling.value / figure.value;
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const perSecond = (count: number, ms: number) => (ms > 0 ? count / (ms / 1000) : 0);
export const grouped = (n: number) => Math.round(n).toLocaleString('en-GB');
