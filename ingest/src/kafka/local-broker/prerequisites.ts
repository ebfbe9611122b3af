import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { DOCKER_ALTERNATIVE, LocalKafkaError } from './local-kafka-error.js';

/** Kafka 4.x brokers are compiled for Java 17. */
const MIN_JAVA_MAJOR = 17;

const INSTALL_HINT =
  'Install Java 17+ and Maven 3.6.3+ (Debian/Ubuntu: `sudo apt-get install openjdk-17-jre-headless maven`; ' +
  'macOS: `brew install openjdk@17 maven`).';

/** Finds an executable on PATH the way a shell would, without spawning one. */
function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The `java` to run the broker with: `$JAVA_HOME/bin/java` when JAVA_HOME is set (Maven uses the same
 * one), else the first on PATH. Throws JAVA_MISSING / JAVA_TOO_OLD with what to install.
 */
export function findJava(env: NodeJS.ProcessEnv = process.env): string {
  const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : findOnPath('java', env.PATH);
  if (!java) {
    throw new LocalKafkaError(
      'JAVA_MISSING',
      `\`java\` not found on PATH: the local Kafka broker needs Java ${MIN_JAVA_MAJOR}+. ${INSTALL_HINT} ${DOCKER_ALTERNATIVE}`,
    );
  }
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new LocalKafkaError(
      'JAVA_MISSING',
      `cannot run ${java}: ${probe.error.message}. ${INSTALL_HINT} ${DOCKER_ALTERNATIVE}`,
      {
        cause: probe.error,
      },
    );
  }
  // `java -version` prints to stderr: openjdk version "17.0.15" … (or "1.8.0_402" for Java 8).
  const match = /version "(\d+)(?:\.(\d+))?/.exec(probe.stderr);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : NaN;
  if (Number.isFinite(major) && major < MIN_JAVA_MAJOR) {
    throw new LocalKafkaError(
      'JAVA_TOO_OLD',
      `${java} is Java ${major}; Kafka 4 needs Java ${MIN_JAVA_MAJOR}+. ${INSTALL_HINT} ${DOCKER_ALTERNATIVE}`,
    );
  }
  return java;
}

/** The `mvn` used to fetch Kafka's jars from Maven Central. Throws MAVEN_MISSING with what to install. */
export function findMaven(env: NodeJS.ProcessEnv = process.env): string {
  const mvn = findOnPath('mvn', env.PATH);
  if (!mvn) {
    throw new LocalKafkaError(
      'MAVEN_MISSING',
      `\`mvn\` not found on PATH: the local Kafka broker's jars are fetched from Maven Central with Maven. ${INSTALL_HINT} ${DOCKER_ALTERNATIVE}`,
    );
  }
  return mvn;
}
