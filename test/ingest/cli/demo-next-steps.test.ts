// The commands `modelwatch demo` suggests next must run where the user is: `npm run demo` in this repository
// has no `modelwatch` on the PATH (the published bin needs a build), an installed CLI does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliAsInvoked } from '../../../ingest/src/cli/commands/demo.js';

describe('demo next steps', () => {
  it('suggests `npm run modelwatch --` when the demo ran as an npm script', () => {
    assert.equal(cliAsInvoked({ npm_lifecycle_event: 'demo' }), 'npm run modelwatch --');
    assert.equal(cliAsInvoked({ npm_lifecycle_event: 'modelwatch' }), 'npm run modelwatch --');
  });

  it('suggests the plain command when the CLI was run directly or from another script', () => {
    assert.equal(cliAsInvoked({}), 'modelwatch');
    assert.equal(cliAsInvoked({ npm_lifecycle_event: 'start' }), 'modelwatch');
  });
});
