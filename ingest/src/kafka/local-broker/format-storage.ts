import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalKafkaError } from './local-kafka-error.js';

/**
 * A Kafka cluster id: 16 random bytes, base64url without padding, never starting with '-' (the same rules
 * as Kafka's `Uuid.randomUuid()`). Made here rather than with `StorageTool random-uuid` to save a JVM start.
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The cluster id a formatted log dir belongs to (from its meta.properties), if it was formatted. */
async function existingClusterId(logDir: string): Promise<string | undefined> {
  const meta = await readFile(join(logDir, 'meta.properties'), 'utf8').catch(() => '');
  return /^cluster\.id=(.+)$/m.exec(meta)?.[1]?.trim();
}

export interface FormatStorageOptions {
  java: string;
  /** JVM flags shared with the broker (classpath, logging). */
  jvmArgs: string[];
  serverPropertiesPath: string;
  /** The `log.dirs` folder in server.properties. */
  logDir: string;
}

/**
 * `kafka.tools.StorageTool format --ignore-formatted`: formats a new data dir with a random cluster id and
 * leaves an already formatted one (a restart) untouched, keeping its messages. Kafka 4 still checks the
 * given id against meta.properties under --ignore-formatted, so a restart passes the dir's own id back.
 */
export async function formatStorage({
  java,
  jvmArgs,
  serverPropertiesPath,
  logDir,
}: FormatStorageOptions): Promise<void> {
  const clusterId = (await existingClusterId(logDir)) ?? randomClusterId();
  const args = [
    ...jvmArgs,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    serverPropertiesPath,
    '--ignore-formatted',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) =>
      reject(new LocalKafkaError('FORMAT_FAILED', `cannot run ${java}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new LocalKafkaError(
            'FORMAT_FAILED',
            `formatting Kafka storage failed (exit code ${code}) for ${serverPropertiesPath}:\n${output.trim()}`,
          ),
        );
    });
  });
}
