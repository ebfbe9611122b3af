import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { AttributeShape } from '../../instrumentation/src/attribute-shapes.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface ShapeReport {
  spans: Array<{ attributes: number; fast: boolean }>;
  control: boolean;
}

describe('SDK span attributes stay in V8 fast mode (attribute-shapes.ts)', () => {
  it('after the first span of a key sequence, later spans with more than 16 attributes are not hash tables', async () => {
    // V8's probe needs --allow-natives-syntax, so the spans are made in a child process.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--allow-natives-syntax',
        '--conditions=source',
        '--import',
        'tsx',
        'test/instrumentation/fixtures/attribute-shape-app.mjs',
      ],
      { cwd: repoRoot },
    );
    const report = JSON.parse(stdout) as ShapeReport;
    // The probe can say no: an object that took 22 keys the same way, on no warmed path, is a hash table.
    assert.equal(report.control, false);
    assert.equal(report.spans.length, 3);
    for (const span of report.spans) assert.ok(span.attributes > 16, `${span.attributes} attributes`);
    assert.deepEqual(
      report.spans.slice(1).map((span) => span.fast),
      [true, true],
    );
  });
});

describe('AttributeShape.then', () => {
  it('answers one node per key sequence, whichever key was followed last', () => {
    const root = new AttributeShape();
    const a = root.then('gen_ai.operation.name');
    const b = root.then('gen_ai.provider.name');
    assert.ok(a && b);
    assert.notEqual(a, b);
    // Back to the first key after another one (the last-step shortcut then misses), then repeated (it hits).
    assert.equal(root.then('gen_ai.operation.name'), a);
    assert.equal(root.then('gen_ai.operation.name'), a);
    // A key equal in content but built at run time is the same step.
    assert.equal(root.then(['gen_ai', 'provider', 'name'].join('.')), b);
    assert.equal(a.then('x'), a.then('x'));
    assert.notEqual(a.then('x'), b.then('x'));
  });
});
