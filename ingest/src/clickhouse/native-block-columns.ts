/**
 * Reads String columns back out of a Native block (one of ours: span-blocks.ts' types). The consumer keeps
 * a batch's rows only as encoded blocks; after a crash it needs their span keys to ask the engine which rows
 * arrived (consumer/replay-repair.ts). Rare and off the hot path, so every block is parsed, not trusted.
 */
import { BlockReader } from './merge-native-blocks.js';

/**
 * The values of the named String columns, row by row: result[i][j] is row i's value of names[j]. Throws
 * when a named column is missing or not a String, or the block is malformed.
 */
export function readStringColumns(block: Uint8Array, names: readonly string[]): string[][] {
  if (block.length === 0) return [];
  const reader = new BlockReader(block);
  const columnCount = reader.varUInt();
  const rowCount = reader.varUInt();
  const rows: string[][] = Array.from({ length: rowCount }, () => new Array<string>(names.length));
  const found = new Set<string>();
  for (let c = 0; c < columnCount; c++) {
    const name = reader.string();
    const type = reader.string();
    const index = names.indexOf(name);
    if (index < 0) {
      reader.streams(type, rowCount, []); // skipped
      continue;
    }
    if (type !== 'String') throw new TypeError(`column ${name} is ${type}, not String`);
    for (let r = 0; r < rowCount; r++) (rows[r] as string[])[index] = reader.string();
    found.add(name);
  }
  const missing = names.filter((name) => !found.has(name));
  if (missing.length > 0) throw new TypeError(`Native block has no column ${missing.join(', ')}`);
  return rows;
}
