import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attrValueToString, attributesToStrings } from '../../../ingest/src/otlp/attr-value.js';

// Expected strings are what the Collector's pcommon Value.AsString() returns (Go strconv / encoding/json).
describe('attrValueToString (Collector-compatible)', () => {
  it('writes scalars like Go', () => {
    assert.equal(attrValueToString('plain'), 'plain');
    assert.equal(attrValueToString(true), 'true');
    assert.equal(attrValueToString(42), '42');
    assert.equal(attrValueToString(-7), '-7');
    assert.equal(attrValueToString(9007199254740993n), '9007199254740993');
    assert.equal(attrValueToString(0.7), '0.7');
    assert.equal(attrValueToString(3), '3'); // a double 3.0 prints as "3" in Go too
    assert.equal(attrValueToString(1e21), '1000000000000000000000');
    assert.equal(attrValueToString(1.5e-7), '0.00000015');
    assert.equal(attrValueToString(-2.5e-8), '-0.000000025');
    assert.equal(attrValueToString(Number.NaN), 'NaN');
    assert.equal(attrValueToString(Number.POSITIVE_INFINITY), '+Inf');
    assert.equal(attrValueToString(null), '');
  });

  it('writes bytes as base64 and arrays / maps as JSON with sorted keys and HTML escaping', () => {
    assert.equal(attrValueToString(Buffer.from('hi')), 'aGk=');
    assert.equal(attrValueToString(['stop', 'length']), '["stop","length"]');
    assert.equal(attrValueToString([1, 2.5, true, null]), '[1,2.5,true,null]');
    assert.equal(attrValueToString({ b: 1, a: ['x'], c: { z: 'q' } }), '{"a":["x"],"b":1,"c":{"z":"q"}}');
    assert.equal(attrValueToString(['<b>&']), '["\\u003cb\\u003e\\u0026"]');
  });

  it('maps a whole attribute record', () => {
    assert.deepEqual(attributesToStrings({ a: 'x', n: 1, list: ['y'] }), { a: 'x', n: '1', list: '["y"]' });
  });
});
