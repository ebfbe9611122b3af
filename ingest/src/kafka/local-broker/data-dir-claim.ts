import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalKafkaError } from './local-kafka-error.js';

/**
 * Kafka's own `.lock` is taken too late for a combined KRaft node: a second broker on the same data dir
 * runs its controller against the first one's metadata log before failing on the lock. So a data dir is
 * claimed with `broker.pid` (the starting Node process, then the JVM) before anything touches it.
 */
export interface DataDirClaim {
  /** Records the JVM as the holder once it is spawned. */
  recordBrokerPid(pid: number): Promise<void>;
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A zombie has an empty command line: it is gone, only not yet reaped.
    return readFileSync(`/proc/${pid}/cmdline`).length > 0;
  } catch {
    return true; // no /proc (macOS): the signal check is all there is
  }
}

export async function claimDataDir(dataDir: string): Promise<DataDirClaim> {
  const pidFile = join(dataDir, 'broker.pid');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(pidFile, String(process.pid), { flag: 'wx' });
      return {
        recordBrokerPid: (pid) => writeFile(pidFile, String(pid)),
        release: () => rm(pidFile, { force: true }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new LocalKafkaError(
        'DATA_DIR_IN_USE',
        `Kafka data dir ${dataDir} is in use by process ${holder} (another local broker?). Stop it ` +
          `(\`npm run kafka:stop\`) or use another data dir; if no such broker runs, delete ${pidFile}.`,
      );
    }
    await rm(pidFile, { force: true }); // left by a broker that is gone
  }
  throw new LocalKafkaError(
    'DATA_DIR_IN_USE',
    `could not claim Kafka data dir ${dataDir}: ${pidFile} keeps reappearing`,
  );
}
