/**
 * libchdb binds one data directory per process and two processes on one directory would corrupt it, so
 * the embedded store takes a pid lock file. A lock left by a dead process (SIGKILL) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { IngestError } from '../errors.js';

const LOCK_FILE = '.modelwatch.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Returns a release function. Throws CONFIG_INVALID when a live process holds the directory. */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (holder === process.pid) return () => undefined; // same process, second handle: the engine is shared
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new IngestError(
          'CONFIG_INVALID',
          `the embedded ClickHouse data directory ${dataDir} is in use by process ${holder}. ` +
            'Stop it, set MODELWATCH_DATA_DIR to another folder, or run a ClickHouse server (CLICKHOUSE_URL) ' +
            'so several processes can share one store.',
        );
      }
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new IngestError('CONFIG_INVALID', `cannot lock ${dataDir}`);
}
