// The versions compiled into the code (the instrumentation scope version on every span, `modelwatch
// --version`) must be the packages' own: they are written by hand, so a release that bumps package.json
// without them fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PACKAGE_VERSION } from '@modelwatch/instrumentation';
import { VERSION } from '../ingest/src/cli/main.js';

const versionOf = (workspace: string): string =>
  (
    JSON.parse(readFileSync(new URL(`../${workspace}/package.json`, import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

describe('package versions', () => {
  it('the instrumentation scope version is @modelwatch/instrumentation’s', () => {
    assert.equal(PACKAGE_VERSION, versionOf('instrumentation'));
  });
  it('`modelwatch --version` is @modelwatch/ingest’s', () => {
    assert.equal(VERSION, versionOf('ingest'));
  });
});
