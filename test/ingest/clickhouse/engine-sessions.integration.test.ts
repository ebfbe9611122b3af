/**
 * Extra sessions on the real embedded engine: statements on one chdb connection run one after another, on
 * different sessions side by side — the reason the consumer gives each insert slot a session of its own.
 * And concurrent inserts through a multi-session writer keep their own settings (dedup tokens): chdb applies
 * settings as session-wide SETs, so a shared session could hand one insert another's token.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ClickHouseHandle } from '../../../ingest/src/clickhouse/client.js';
import { openEngineSessions, type EngineSessions } from '../../../ingest/src/clickhouse/engine-sessions.js';
import { ClickHouseSpanWriter } from '../../../ingest/src/clickhouse/insert-rows.js';
import { decodeRecord } from '../../../ingest/src/consumer/decode-record.js';
import { makeTraceRequests } from '../consumer/llm-span-fixtures.js';
import { openMigratedStore, type TestStore } from '../fixtures/embedded-store.js';

let store: TestStore;
let ch: ClickHouseHandle;
let sessions: EngineSessions;

before(async () => {
  store = await openMigratedStore('mw-engine-sessions-');
  ch = store.handle;
  sessions = await openEngineSessions(ch, 3);
});
after(async () => {
  await sessions.close();
  await store.close();
});

/** Which of a slow statement (`SELECT sleep(1)`) on `slow` and a trivial one on `quick` finished first. */
async function firstToFinish(
  slow: ClickHouseHandle['client'],
  quick: ClickHouseHandle['client'],
): Promise<'slow' | 'quick'> {
  const order: ('slow' | 'quick')[] = [];
  const slowDone = slow.command({ query: 'SELECT sleep(1)' }).then(() => order.push('slow'));
  // Started after the slow one, so on a shared connection it can only run once the slow one is done.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const quickDone = quick.command({ query: 'SELECT 1' }).then(() => order.push('quick'));
  await Promise.all([slowDone, quickDone]);
  return order[0] as 'slow' | 'quick';
}

test('one session runs its statements one at a time; separate sessions run side by side', async () => {
  assert.equal(sessions.sessions.length, 3);
  assert.equal(sessions.sessions[0]?.client, ch.client, 'slot 0 is the handle’s own client');
  const [own, second] = sessions.sessions.map((s) => s.client);
  assert.ok(own && second && own !== second, 'the other slots are connections of their own');
  assert.equal(await firstToFinish(own, own), 'slow', 'same connection: the quick statement waited');
  assert.equal(await firstToFinish(own, second), 'quick', 'other connection: it did not wait');
});

test('extra sessions use the handle’s database, and a server handle shares its own client', async () => {
  const result = await (sessions.sessions[2]?.client ?? ch.client).query({
    query: 'SELECT currentDatabase() AS db',
    format: 'JSONEachRow',
  });
  assert.deepEqual(await result.json(), [{ db: ch.database }]);

  const server = await openEngineSessions(
    { ...ch, mode: 'server', insertSpoolDir: undefined, openSession: undefined },
    3,
  );
  assert.deepEqual(
    server.sessions.map((s) => s.client),
    [ch.client, ch.client, ch.client],
  );
  await server.close();
});

test('concurrent inserts on a multi-session writer keep their own dedup tokens', async () => {
  const writer = new ClickHouseSpanWriter(sessions.sessions.slice(1));
  const service = `sessions-${Date.now()}`;
  const requests = await makeTraceRequests(service, 6, 3);
  const chunks = requests.map((request) => {
    const decoded = decodeRecord(Buffer.from(request.proto), undefined);
    assert.equal(decoded.kind, 'rows');
    return decoded.kind === 'rows' ? decoded : undefined;
  });
  const spans = chunks.reduce((n, d) => n + (d?.traceCount ?? 0), 0);
  const writeAll = () =>
    Promise.all(
      chunks.map((d, i) =>
        writer.writeEncoded('otel_traces', [d?.traces ?? Buffer.alloc(0)], `sessions:0:${i}-${i}:t`),
      ),
    );
  const countRows = async () => {
    const result = await ch.client.query({
      query: 'SELECT count() AS n FROM otel_traces WHERE ServiceName = {service:String}',
      query_params: { service },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string | number }>();
    return Number(row?.n ?? 0);
  };

  await writeAll();
  assert.equal(await countRows(), spans, 'six different tokens: six blocks land');
  // The retry after a crash: the same six blocks with the same tokens, again all at once.
  await writeAll();
  assert.equal(await countRows(), spans, 'each block kept its own token: nothing landed twice');
});
