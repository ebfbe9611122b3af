/**
 * InsertGate (insert-gate.ts): llm_calls inserts share it, the rollup check of a replay holds it alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InsertGate } from '../../../ingest/src/consumer/insert-gate.js';

/** A promise the test resolves, and whether it has. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('InsertGate', () => {
  it('runs shared holders together and the exclusive one only after they finished', async () => {
    const gate = new InsertGate();
    const events: string[] = [];
    const a = deferred();
    const b = deferred();
    const sharedA = gate.shared(async () => {
      events.push('a start');
      await a.promise;
      events.push('a end');
    });
    const sharedB = gate.shared(async () => {
      events.push('b start');
      await b.promise;
      events.push('b end');
    });
    const exclusive = gate.exclusive(async () => void events.push('check'));
    await turns();
    assert.deepEqual(events, ['a start', 'b start']);
    a.resolve();
    await turns();
    assert.deepEqual(events, ['a start', 'b start', 'a end']);
    b.resolve();
    await Promise.all([sharedA, sharedB, exclusive]);
    assert.deepEqual(events, ['a start', 'b start', 'a end', 'b end', 'check']);
  });

  it('holds new shared holders back while an exclusive one waits, then lets them all in', async () => {
    const gate = new InsertGate();
    const events: string[] = [];
    const first = deferred();
    const running = gate.shared(async () => {
      await first.promise;
      events.push('first insert');
    });
    const check = gate.exclusive(async () => {
      events.push('check');
      await turns();
      events.push('check end');
    });
    const later = [1, 2].map((n) => gate.shared(async () => void events.push(`insert ${n}`)));
    await turns();
    assert.deepEqual(events, [], 'the later inserts wait behind the queued check');
    first.resolve();
    await Promise.all([running, check, ...later]);
    assert.deepEqual(events, ['first insert', 'check', 'check end', 'insert 1', 'insert 2']);
  });

  it('releases the gate when the holder throws', async () => {
    const gate = new InsertGate();
    await assert.rejects(
      gate.exclusive(async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    await assert.rejects(
      gate.shared(async () => Promise.reject(new Error('bang'))),
      /bang/,
    );
    assert.equal(await gate.exclusive(async () => 'free'), 'free');
    assert.equal(await gate.shared(async () => 'free'), 'free');
  });
});
