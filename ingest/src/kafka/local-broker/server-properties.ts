export interface ServerPropertiesInput {
  /** Client listener (PLAINTEXT) on 127.0.0.1. */
  port: number;
  /** KRaft controller listener on 127.0.0.1. */
  controllerPort: number;
  /** Partition data and the metadata log. */
  logDir: string;
}

/** Backslashes are escapes in Java properties files. */
const escapeValue = (value: string): string => value.replaceAll('\\', '\\\\');

/**
 * server.properties for one combined broker+controller KRaft node on loopback. The static
 * `controller.quorum.voters` line means `StorageTool format` needs no `--standalone` flag on Kafka 4.x.
 */
export function renderServerProperties({ port, controllerPort, logDir }: ServerPropertiesInput): string {
  const properties: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': escapeValue(logDir),
    // A single node cannot hold more than one replica of the internal topics.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'min.insync.replicas': 1,
    'default.replication.factor': 1,
    // Tests join consumer groups constantly; the default 3 s delay would be paid by each one.
    'group.initial.rebalance.delay.ms': 0,
    // Auto-create stays on (as in a stock broker), but modelwatch creates its topics explicitly.
    'num.partitions': 3,
  };
  const lines = Object.entries(properties).map(([key, value]) => `${key}=${value}`);
  return `# Written by modelwatch's local-broker.ts at every start; edits are overwritten.\n${lines.join('\n')}\n`;
}
