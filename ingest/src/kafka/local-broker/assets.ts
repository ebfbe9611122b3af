import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding pom.xml and log4j2.properties. tsc does not copy non-TS files, so when this module
 * runs from dist/ the files are found in the matching src/ folder instead.
 */
export function localBrokerAssetDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, 'pom.xml'))) return here;
  const inSrc = here.replace(`${sep}dist${sep}`, `${sep}src${sep}`);
  if (existsSync(join(inSrc, 'pom.xml'))) return inSrc;
  throw new Error(
    `local Kafka broker assets (pom.xml, log4j2.properties) not found next to ${here} or in ${inSrc}`,
  );
}

export const pomPath = (): string => join(localBrokerAssetDir(), 'pom.xml');
export const log4jConfigPath = (): string => join(localBrokerAssetDir(), 'log4j2.properties');
