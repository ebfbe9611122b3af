// `modelwatch migrate` as a child process on a fresh embedded store: applies the packaged migrations once,
// applies nothing the second time, and refuses (exit 65, naming the file) to run when an applied migration
// was edited — before running anything, including a new migration added next to it.
import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll, repoRoot, runModelwatch } from './fixtures/modelwatch-process.js';

let scratch: string;
let dataDir: string;
let migrationsDir: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'modelwatch-migrate-cli-'));
  dataDir = join(scratch, 'clickhouse');
  migrationsDir = join(scratch, 'migrations');
});
after(async () => {
  await killAll();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const migrate = (...args: string[]) => runModelwatch(['migrate', ...args], { MODELWATCH_DATA_DIR: dataDir });

describe('modelwatch migrate', () => {
  it('applies every packaged migration once; a second run applies nothing', async () => {
    const packaged = (await readdir(join(repoRoot, 'migrations'))).filter((f) => f.endsWith('.sql')).sort();
    assert.ok(packaged.length >= 4);

    const first = await migrate();
    assert.equal(first.code, 0, first.stderr);
    for (const file of packaged)
      assert.match(first.stdout, new RegExp(`^${file}  applied \\(\\d+ ms\\)$`, 'm'));
    assert.match(first.stdout, new RegExp(`^${packaged.length} migration\\(s\\) applied$`, 'm'));

    const second = await migrate();
    assert.equal(second.code, 0, second.stderr);
    for (const file of packaged) assert.match(second.stdout, new RegExp(`^${file}  already applied$`, 'm'));
    assert.match(second.stdout, /^0 migration\(s\) applied$/m);
  });

  it('exits 65 naming an edited migration and runs nothing, not even a new one', async () => {
    await cp(join(repoRoot, 'migrations'), migrationsDir, { recursive: true });
    await appendFile(join(migrationsDir, '0003_llm_calls.sql'), '\n-- an innocent-looking edit\n');
    await writeFile(
      join(migrationsDir, '0099_extra.sql'),
      'CREATE TABLE IF NOT EXISTS migrate_cli_extra (x UInt8) ENGINE = MergeTree ORDER BY x;\n',
    );

    const edited = await migrate('--dir', migrationsDir);
    assert.equal(edited.code, 65, edited.stderr);
    assert.match(
      edited.stderr,
      /MIGRATION_CHECKSUM_MISMATCH: applied migration file\(s\) were edited: 0003_llm_calls\.sql \(applied checksum [0-9a-f]{12}…, file now [0-9a-f]{12}…\)/,
    );
    assert.doesNotMatch(edited.stderr, /0001|0002|0004/, 'only the edited file is named');
    assert.doesNotMatch(edited.stderr, /\n\s+at /, 'no stack trace');

    // Restored, the folder migrates again, and only the new file runs: the refused run applied nothing.
    await cp(join(repoRoot, 'migrations', '0003_llm_calls.sql'), join(migrationsDir, '0003_llm_calls.sql'));
    const restored = await migrate('--dir', migrationsDir);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^0099_extra\.sql {2}applied/m);
    assert.match(restored.stdout, /^1 migration\(s\) applied$/m);
  });
});
