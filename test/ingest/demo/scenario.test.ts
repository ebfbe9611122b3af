// Scenario files: the shipped ones are valid and mean what they say; invalid ones fail with path + message.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IngestError } from '../../../ingest/src/errors.js';
import {
  effectiveStream,
  loadScenarioFile,
  parseScenarioText,
  phaseAt,
  scenarioDurationS,
} from '../../../ingest/src/demo/scenario.js';

const scenariosDir = fileURLToPath(new URL('../../../ingest/scenarios/', import.meta.url));

describe('shipped scenarios', () => {
  for (const file of readdirSync(scenariosDir).filter((f) => f.endsWith('.yaml'))) {
    it(`${file} is valid, under 60 s, with a baseline phase`, async () => {
      const s = await loadScenarioFile(`${scenariosDir}${file}`);
      assert.ok(scenarioDurationS(s) <= 60);
      assert.equal(s.phases.filter((p) => p.baseline).length, 1);
      assert.ok((s.expect?.degraded.length ?? 0) > 0);
    });
  }

  it('default degrades exactly claude-opus 4.7 and 4.8, then recovers, then a checkout client burst', async () => {
    const s = await loadScenarioFile(`${scenariosDir}default.yaml`);
    const incident = phaseAt(s, 20);
    assert.equal(incident?.phase.name, 'opus-degraded');
    const affected = s.streams
      .filter((st) => Object.keys(effectiveStream(st, incident!.phase).failures).length > 0)
      .map((st) => st.model);
    assert.deepEqual([...new Set(affected)], ['claude-opus-4-7', 'claude-opus-4-8']);
    const burst = s.phases.find((p) => p.name === 'client-bad-requests')!;
    const bursting = s.streams.filter((st) => (effectiveStream(st, burst).failures.bad_request ?? 0) > 0);
    assert.deepEqual(
      bursting.map((st) => `${st.service}/${st.model}`),
      ['checkout/gpt-4o-2024-08-06'],
    );
    assert.equal(phaseAt(s, scenarioDurationS(s)), undefined);
  });
});

describe('invalid scenarios', () => {
  const minimal = `
name: x
streams:
  - { provider: openai, model: gpt-4o, service: a, ratePerS: 1, latency: { medianMs: 100, p95Ms: 200 } }
phases:
  - { name: p, durationS: 5, baseline: true }
`;
  const problems = (text: string, source = 'bad.yaml'): string => {
    try {
      parseScenarioText(text, source);
    } catch (error) {
      assert.ok(error instanceof IngestError);
      assert.equal(error.code, 'SCENARIO_INVALID');
      return error.message;
    }
    assert.fail('expected the scenario to be rejected');
  };

  it('accepts the minimal scenario and fills defaults', () => {
    const s = parseScenarioText(minimal, 'ok.yaml');
    assert.equal(s.streams[0]?.streamShare, 0);
    assert.equal(s.clientTimeoutMs, 2000);
  });

  it('reports every problem with its path', () => {
    const message = problems(`
name: x
speed: 3
streams:
  - { provider: mistral, model: m, service: a, ratePerS: -1, latency: { medianMs: 300, p95Ms: 200 } }
phases:
  - { name: p, durationS: 5, overrides: [ { match: { model: nope }, failures: { overloaded: 0.8, server_error: 0.5 } } ] }
`);
    assert.match(message, /^bad\.yaml is invalid:/);
    assert.match(message, /\(root\): Unrecognized key: "speed"/);
    assert.match(message, /streams\[0\]\.provider: Invalid option: expected one of "openai"\|"anthropic"/);
    assert.match(message, /streams\[0\]\.ratePerS: Too small/);
    assert.match(message, /streams\[0\]\.latency: p95Ms must be >= medianMs/);
    assert.match(message, /phases\[0\]\.overrides\[0\]\.failures: failure shares add up to more than 1/);
  });

  it('requires exactly one baseline phase and overrides that match a stream', () => {
    const noBaseline = minimal.replace(', baseline: true', '');
    assert.match(problems(noBaseline), /phases: exactly one phase must have baseline: true \(found 0\)/);
    const unmatched = minimal.replace(
      'baseline: true }',
      'baseline: true, overrides: [ { match: { service: ghost } } ] }',
    );
    assert.match(problems(unmatched), /phases\[0\]\.overrides\[0\]\.match: matches no stream/);
  });

  it('reports YAML and JSON syntax errors with the file name', () => {
    assert.match(problems('name: [unclosed', 'broken.yaml'), /^broken\.yaml is not valid YAML/);
    assert.match(problems('{"name": ', 'broken.json'), /^broken\.json is not valid JSON/);
  });
});
