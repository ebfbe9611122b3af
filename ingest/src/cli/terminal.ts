/**
 * What the CLI writes to, in one place: colours only when the stream is a TTY and NO_COLOR is unset
 * (picocolors' own rule, FORCE_COLOR included), results on stdout, progress and errors on stderr.
 */
import pc from 'picocolors';
import type { Colors } from 'picocolors/types.js';

export type { Colors };

export function colorsFor(stream: NodeJS.WriteStream): Colors {
  // picocolors decides for stdout; stderr may differ (e.g. stdout piped to a file, stderr on a terminal).
  return pc.createColors(pc.isColorSupported && (stream.isTTY === true || 'FORCE_COLOR' in process.env));
}

export const out = (line: string): void => void process.stdout.write(`${line}\n`);
export const err = (line: string): void => void process.stderr.write(`${line}\n`);
