import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pomPath } from './assets.js';
import { LocalKafkaError } from './local-kafka-error.js';
import { silentLogger, type LocalKafkaLogger } from './logger.js';
import { findJava, findMaven } from './prerequisites.js';

/** Written last into libs/, so a half-finished or interrupted copy never counts as a cache hit. */
const COMPLETE_MARKER = '.modelwatch-complete.json';
/** Cold fetches take ~5-30 s; a stuck proxy should not hang CI for ever. */
const MAVEN_TIMEOUT_MS = 10 * 60_000;

export interface KafkaJars {
  /** Kafka version, read from pom.xml. */
  version: string;
  /** Folder of jars; the JVM classpath is `<libsDir>/*`. */
  libsDir: string;
}

export interface FetchKafkaJarsOptions {
  /** @default defaultKafkaCacheDir() */
  cacheDir?: string;
  logger?: LocalKafkaLogger;
}

interface CompleteMarker {
  pomSha256: string;
  jarCount: number;
}

/** The Kafka version pinned in pom.xml (the one place it is written down). */
export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomPath(), 'utf8'));
  if (!match?.[1]) throw new Error(`no <kafka.version> property in ${pomPath()}`);
  return match[1].trim();
}

/**
 * `MODELWATCH_KAFKA_CACHE` when set, else `~/.cache/modelwatch/kafka-<version>`. Read from the environment
 * here because the jar cache is shared by the CLI, the test runner and CI, which have no common config.
 */
export function defaultKafkaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MODELWATCH_KAFKA_CACHE || join(homedir(), '.cache', 'modelwatch', `kafka-${kafkaVersion()}`);
}

const pomDigest = (): string => createHash('sha256').update(readFileSync(pomPath())).digest('hex');

async function readMarker(libsDir: string): Promise<CompleteMarker | undefined> {
  try {
    return JSON.parse(await readFile(join(libsDir, COMPLETE_MARKER), 'utf8')) as CompleteMarker;
  } catch {
    return undefined;
  }
}

/** The cached jars when they were copied completely from the current pom.xml, without running Maven. */
export async function cachedKafkaJars(cacheDir = defaultKafkaCacheDir()): Promise<KafkaJars | undefined> {
  const libsDir = join(cacheDir, 'libs');
  const marker = await readMarker(libsDir);
  return marker?.pomSha256 === pomDigest() ? { version: kafkaVersion(), libsDir } : undefined;
}

function runMaven(mvn: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), MAVEN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new LocalKafkaError('FETCH_FAILED', `cannot run ${mvn}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const how = signal
        ? `was killed (${signal}${signal === 'SIGKILL' ? ', timed out' : ''})`
        : `exited with code ${code}`;
      reject(
        new LocalKafkaError(
          'FETCH_FAILED',
          `fetching Kafka jars from Maven Central failed: \`mvn ${args.join(' ')}\` ${how}. ` +
            `Check network access to repo.maven.apache.org (or your ~/.m2/settings.xml mirror).\n${output.trim()}`,
        ),
      );
    });
  });
}

/**
 * Kafka's broker jars, copied from Maven Central into the cache on first use (~43 MB) and reused after
 * that without running Maven. Concurrent callers are safe: each copies into its own temporary folder and
 * renames it into place; the loser of the rename discards its copy.
 */
export async function ensureKafkaJars(options: FetchKafkaJarsOptions = {}): Promise<KafkaJars> {
  const cacheDir = options.cacheDir ?? defaultKafkaCacheDir();
  const logger = options.logger ?? silentLogger;
  const cached = await cachedKafkaJars(cacheDir);
  if (cached) return cached;

  findJava(); // Maven runs on it too: report a missing Java as such, not as a Maven failure
  const mvn = findMaven();
  const version = kafkaVersion();
  const libsDir = join(cacheDir, 'libs');
  const stagingDir = join(cacheDir, `libs.tmp-${process.pid}-${Date.now()}`);
  await mkdir(cacheDir, { recursive: true });
  logger.info(`fetching Apache Kafka ${version} jars with Maven into ${libsDir} (~43 MB, first run only)…`);
  const startedAt = Date.now();
  try {
    await runMaven(mvn, [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      pomPath(),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${stagingDir}`,
    ]);
    const jarCount = (await readdir(stagingDir)).filter((name) => name.endsWith('.jar')).length;
    if (!existsSync(join(stagingDir, `kafka_2.13-${version}.jar`))) {
      throw new LocalKafkaError(
        'FETCH_FAILED',
        `Maven finished but kafka_2.13-${version}.jar is not in ${stagingDir}`,
      );
    }
    const marker: CompleteMarker = { pomSha256: pomDigest(), jarCount };
    await writeFile(join(stagingDir, COMPLETE_MARKER), JSON.stringify(marker));
    // Only a stale or incomplete copy is in the way here (a complete one returned above).
    if (!(await cachedKafkaJars(cacheDir))) await rm(libsDir, { recursive: true, force: true });
    try {
      await rename(stagingDir, libsDir);
    } catch (error) {
      // Another process finished first; its copy is as good as ours.
      if (!(await cachedKafkaJars(cacheDir))) throw error;
    }
    logger.info(`fetched ${jarCount} jars in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    return { version, libsDir };
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }
}
