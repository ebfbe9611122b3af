import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyConditionalAll,
  arglessMacroPitfalls,
  expandBackendMacros,
  expandGrafanaSql,
  interpolateTemplateVariables,
} from '@modelwatch/dashboards';

const from = new Date('2026-05-04T10:00:00.250Z');
const to = new Date('2026-05-04T16:00:00.750Z');
const fromS = Math.floor(from.getTime() / 1000);
const toS = Math.floor(to.getTime() / 1000);
const ctx = { from, to, intervalS: 60 };

describe('backend macros (pkg/macros/macros.go + sqlutil)', () => {
  test('time filters, from/to, intervals', () => {
    assert.equal(
      expandBackendMacros('$__timeFilter(Minute)', ctx),
      `Minute >= toDateTime(${fromS}) AND Minute <= toDateTime(${toS})`,
    );
    assert.equal(
      expandBackendMacros('$__timeFilter_ms(ts)', ctx),
      `ts >= fromUnixTimestamp64Milli(${from.getTime()}) AND ts <= fromUnixTimestamp64Milli(${to.getTime()})`,
    );
    assert.equal(
      expandBackendMacros('$__dateFilter(d)', ctx),
      `d >= toDate('2026-05-04') AND d <= toDate('2026-05-04')`,
    );
    assert.equal(
      expandBackendMacros('$__dt(d, t)', ctx),
      `(d >= toDate('2026-05-04') AND d <= toDate('2026-05-04')) AND (t >= toDateTime(${fromS}) AND t <= toDateTime(${toS}))`,
    );
    assert.equal(
      expandBackendMacros('($__fromTime) ($__toTime)', ctx),
      `(toDateTime(${fromS})) (toDateTime(${toS}))`,
    );
    assert.equal(
      expandBackendMacros('($__fromTime_ms)', ctx),
      `(fromUnixTimestamp64Milli(${from.getTime()}))`,
    );
    assert.equal(
      expandBackendMacros('$__timeInterval(Timestamp)', ctx),
      'toStartOfInterval(toDateTime(Timestamp), INTERVAL 60 second)',
    );
    assert.equal(
      expandBackendMacros('$__timeInterval_ms(Timestamp)', { ...ctx, intervalS: 0.5 }),
      'toStartOfInterval(toDateTime64(Timestamp, 3), INTERVAL 500 millisecond)',
    );
    assert.equal(expandBackendMacros('x / ($__interval_s)', { ...ctx, intervalS: 0.2 }), 'x / (1)');
    assert.equal(expandBackendMacros('$__timeFrom(t)', ctx), `t >= '2026-05-04T10:00:00Z'`);
  });

  test('nested parentheses in an argument are kept; commas split arguments as the plugin does', () => {
    assert.equal(
      expandBackendMacros('$__timeFilter(toDateTime(Timestamp))', ctx),
      `toDateTime(Timestamp) >= toDateTime(${fromS}) AND toDateTime(Timestamp) <= toDateTime(${toS})`,
    );
    assert.throws(
      () => expandBackendMacros("$__timeFilter(toTimeZone(t, 'UTC'))", ctx),
      /expected 1 argument, received 2/,
    );
  });

  test('an argument-less macro followed by "(" swallows text up to the matching ")"', () => {
    const sql = 'WHERE t <= $__toTime AND p IN (1, 2) AND q = 3';
    assert.equal(expandBackendMacros(sql, ctx), `WHERE t <= toDateTime(${toS}) AND q = 3`);
    assert.equal(arglessMacroPitfalls(sql).length, 1);
    assert.deepEqual(arglessMacroPitfalls('WHERE (t <= $__toTime) AND p IN (1, 2)'), []);
  });

  test('$__timeFilter does not match $__timeFilter_ms', () => {
    assert.match(expandBackendMacros('$__timeFilter_ms(t)', ctx), /fromUnixTimestamp64Milli/);
  });
});

describe('template variables and $__conditionalAll (frontend)', () => {
  const variables = {
    provider: ['anthropic', "o'neil"],
    model: { all: true, options: ['claude-opus', 'gpt-4o'] } as const,
    version: '4.7',
    empty: [] as string[],
  };

  test('formats', () => {
    const c = { ...ctx, variables };
    assert.equal(interpolateTemplateVariables('${provider:singlequote}', c), `'anthropic','o\\'neil'`);
    assert.equal(interpolateTemplateVariables('${provider:sqlstring}', c), `'anthropic','o''neil'`);
    assert.equal(
      interpolateTemplateVariables('${provider:csv}|${provider:pipe}', c),
      `anthropic,o'neil|anthropic|o'neil`,
    );
    assert.equal(interpolateTemplateVariables('$provider', c), `'anthropic','o'neil'`);
    assert.equal(interpolateTemplateVariables('$version ${version} [[version]]', c), '4.7 4.7 4.7');
    assert.equal(interpolateTemplateVariables('${model:singlequote}', c), `'claude-opus','gpt-4o'`);
    assert.equal(
      interpolateTemplateVariables('$__interval $__interval_ms $__timeFilter(x) $unknown', c),
      '1m 60000 $__timeFilter(x) $unknown',
    );
    assert.throws(
      () => interpolateTemplateVariables('${version:nosuch}', c),
      /unknown Grafana variable format/,
    );
  });

  test('$__conditionalAll keeps the condition for a selection and drops it for All or empty', () => {
    assert.equal(
      applyConditionalAll('WHERE $__conditionalAll(P IN (${provider:singlequote}), $provider)', variables),
      'WHERE P IN (${provider:singlequote})',
    );
    assert.equal(
      applyConditionalAll('WHERE $__conditionalAll(M IN (${model:singlequote}), $model)', variables),
      'WHERE 1=1',
    );
    assert.equal(
      applyConditionalAll('WHERE $__conditionalAll(E IN (${empty:singlequote}), ${empty})', variables),
      'WHERE 1=1',
    );
    // A comma on the macro's own level: the plugin gives up and leaves the query as is.
    const odd = 'WHERE $__conditionalAll(a = 1, b = 2, $provider)';
    assert.equal(applyConditionalAll(odd, variables), odd);
  });

  test('whole pipeline', () => {
    const sql =
      'SELECT $__timeInterval(Minute) AS time, sum(Calls) / ($__interval_s) AS v FROM t WHERE $__timeFilter(Minute) AND $__conditionalAll(Provider IN (${provider:singlequote}), $provider) AND $__conditionalAll(ModelFamily IN (${model:singlequote}), $model)';
    assert.equal(
      expandGrafanaSql(sql, { ...ctx, intervalS: 300, variables }),
      `SELECT toStartOfInterval(toDateTime(Minute), INTERVAL 300 second) AS time, sum(Calls) / (300) AS v FROM t WHERE Minute >= toDateTime(${fromS}) AND Minute <= toDateTime(${toS}) AND Provider IN ('anthropic','o\\'neil') AND 1=1`,
    );
  });
});
