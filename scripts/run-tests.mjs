#!/usr/bin/env node
// The one test command (`npm test`). Finds test files under test/, starts the services the integration
// tests need (a real Kafka broker through the project's Maven-based script, unless KAFKA_BROKERS is set),
// and runs everything with node's own test runner so the closing summary (`ℹ pass N` / `ℹ fail N`) is the
// one CI reads. Node 20 has no glob support in `--test`, hence the explicit file list.
//
//   node scripts/run-tests.mjs [--only unit|integration] [--node 22] [filter substrings...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values, positionals } = parseArgs({
  options: { only: { type: 'string' }, node: { type: 'string' } },
  allowPositionals: true,
});

function listTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...listTests(full));
    else if (entry.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out.sort();
}

const isIntegration = (file) => file.includes('.integration.test.ts') || file.startsWith('test/e2e/');
let files = listTests(join(root, 'test'));
if (values.only === 'unit') files = files.filter((f) => !isIntegration(f));
else if (values.only === 'integration') files = files.filter(isIntegration);
else if (values.only) throw new Error(`--only must be unit or integration, got ${values.only}`);
if (positionals.length > 0) files = files.filter((f) => positionals.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const env = { ...process.env };
let services;
if (files.some(isIntegration) && !env.KAFKA_BROKERS) {
  // Started once for the whole run; tests read KAFKA_BROKERS. The child prints one JSON line when ready
  // and stops the broker when its stdin closes (also when this process dies).
  services = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'scripts/test-services.ts'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await new Promise((resolve, reject) => {
    let buffered = '';
    services.stdout.on('data', (chunk) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    services.on('exit', (code) => reject(new Error(`test services exited early with code ${code}`)));
  });
  env.KAFKA_BROKERS = ready.brokers;
  console.log(`test services: Kafka at ${ready.brokers}`);
}

const nodeCommand = values.node ? ['npx', '-y', `node@${values.node}`] : [process.execPath];
// Unit test files are independent and mostly pay tsx's start-up per file, so two run at once (node's default
// is one fewer than the cores: one on a 2-core box; 52-58 s → ~37 s there). Integration files share one
// broker and time real work, so they keep the default.
const concurrency = files.some(isIntegration)
  ? []
  : [`--test-concurrency=${Math.max(2, availableParallelism())}`];
const args = [
  ...nodeCommand.slice(1),
  '--conditions=source',
  '--import',
  'tsx',
  '--test',
  ...concurrency,
  '--test-reporter=spec',
  ...files,
];
const child = spawn(nodeCommand[0], args, { cwd: root, env, stdio: 'inherit' });
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
if (services) {
  services.stdin.end();
  await new Promise((resolve) => {
    services.on('exit', resolve);
    setTimeout(() => {
      services.kill('SIGKILL');
      resolve();
    }, 15_000).unref();
  });
}
process.exit(code);
