/** `modelwatch kafka start|stop|fetch`: a real single-node Kafka broker from Maven Central jars (no Docker). */
import { defineCommand } from 'citty';

export default defineCommand({
  meta: {
    name: 'kafka',
    description: 'Run a local Apache Kafka broker (KRaft) without Docker: start, stop, fetch its jars.',
  },
  subCommands: {
    start: () => import('./start.js').then((m) => m.default),
    stop: () => import('./stop.js').then((m) => m.default),
    fetch: () => import('./fetch.js').then((m) => m.default),
  },
});
