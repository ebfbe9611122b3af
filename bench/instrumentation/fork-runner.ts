/**
 * Runs a benchmark script again in fresh processes ("forks", as JMH calls them) and collects what each wrote.
 *
 * Why forks: V8 keeps type feedback and optimised code per loaded copy of a module and per process, and the
 * overhead benchmark's arms each load their own copy of `openai`. Which copy ends up with the better machine
 * code depends on the order they were loaded and on the process's history, and that bias holds for the
 * whole process (bench-arms.ts `createArms` has the measurements). One process can therefore not tell a
 * 30 µs difference from its own bias; several processes, each with a different load order, can average it
 * out. JMH forks the JVM for the same reason (run-to-run variance from JIT decisions).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ForkSpec {
  /** Extra arguments for this fork (the script's own options). */
  args: string[];
  /** Printed before the fork starts. */
  label: string;
}

/**
 * Runs `scriptUrl` once per spec, one after another (forks running at once would share the 2 cores),
 * with this process's Node flags (`--conditions=source --import tsx`). Each fork gets `--samples-out <file>`
 * and must write its result there as JSON; its stdout and stderr pass through.
 */
export async function runForks<T>(scriptUrl: URL, specs: readonly ForkSpec[]): Promise<T[]> {
  const dir = await mkdtemp(join(tmpdir(), 'modelwatch-bench-'));
  const script = fileURLToPath(scriptUrl);
  const results: T[] = [];
  try {
    for (const [index, spec] of specs.entries()) {
      const out = join(dir, `fork-${index}.json`);
      const started = performance.now();
      process.stdout.write(`fork ${index + 1}/${specs.length}: ${spec.label} … `);
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [...process.execArgv, script, ...spec.args, '--samples-out', out],
          {
            stdio: ['ignore', 'inherit', 'inherit'],
          },
        );
        child.once('error', reject);
        child.once('exit', (exitCode) => resolve(exitCode));
      });
      if (code !== 0) throw new Error(`fork ${index + 1} (${spec.label}) exited with ${code}`);
      results.push(JSON.parse(await readFile(out, 'utf8')) as T);
      console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

/**
 * Load orders for the forks: every rotation of `items` and every rotation reversed (2n orders). Across them
 * each item is loaded in each position equally often, and each item before each other one in half of them,
 * so neither a position nor a pair's order can favour an arm. For 3 items these are all 6 orders.
 */
export function balancedOrders<T>(items: readonly T[]): T[][] {
  const rotations = items.map((_, shift) => items.map((_, i) => items[(i + shift) % items.length]!));
  return [...rotations, ...rotations.map((order) => [...order].reverse())];
}
