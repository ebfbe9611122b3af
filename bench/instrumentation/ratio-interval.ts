/**
 * A confidence interval for "ours added / contrib added", from paired block differences grouped by fork.
 * Hand-written: a two-level percentile bootstrap is a dozen lines, and no small, kept library does the
 * two levels.
 *
 * Two levels because the noise has two sources (openai-overhead.bench.ts): within a process, block to
 * block (the machine, GC); between processes, the copies' machine code (bench-arms.ts `createArms`).
 * Resampling blocks alone would treat a fork's bias as signal and give too narrow an interval, so each
 * replicate draws forks with replacement, then blocks within each drawn fork.
 */
// The repository's one seeded generator (mulberry32), so a report's interval is the same when printed again.
import { seededRandom } from '../../ingest/src/demo/plan-call.js';

/** One fork's block differences (arm block median − baseline block median, µs), paired by index. */
export interface ForkDifferences {
  ours: readonly number[];
  theirs: readonly number[];
}

export interface RatioInterval {
  low: number;
  high: number;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.ceil(values.length / 2) - 1]!;
}

/**
 * The central `level` (0.9: 5th to 95th percentile) interval of median(ours) / median(theirs) over
 * `replicates` two-level resamples. A replicate whose contrib median is ≤ 0 counts as an infinite ratio
 * (nothing to compare against), which widens the interval instead of hiding the case.
 */
export function bootstrapRatioInterval(
  forks: readonly ForkDifferences[],
  { replicates = 2000, level = 0.9, seed = 1 }: { replicates?: number; level?: number; seed?: number } = {},
): RatioInterval {
  const usable = forks.filter((fork) => fork.ours.length > 0 && fork.ours.length === fork.theirs.length);
  if (usable.length === 0) return { low: NaN, high: NaN };
  const random = seededRandom(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const ratios: number[] = [];
  for (let r = 0; r < replicates; r++) {
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let f = 0; f < usable.length; f++) {
      const fork = usable[pick(usable.length)]!;
      for (let b = 0; b < fork.ours.length; b++) {
        const block = pick(fork.ours.length);
        ours.push(fork.ours[block]!);
        theirs.push(fork.theirs[block]!);
      }
    }
    const theirsMedian = median(theirs);
    ratios.push(theirsMedian > 0 ? Math.max(0, median(ours)) / theirsMedian : Infinity);
  }
  ratios.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return {
    low: ratios[Math.floor(tail * (replicates - 1))]!,
    high: ratios[Math.ceil((1 - tail) * (replicates - 1))]!,
  };
}
