/** Flags of the `kafka` subcommands, mapped onto the local broker's KafkaCommandOptions. */
import type { ArgDef } from 'citty';
import type { KafkaCommandOptions } from '../../../kafka/local-broker/kafka-cli.js';
import { positiveIntFlag } from '../_shared.js';

export const kafkaArgs = {
  'state-dir': {
    type: 'string',
    description: 'pidfile and default data folder (default .modelwatch/kafka)',
    valueHint: 'dir',
  },
  'data-dir': {
    type: 'string',
    description: 'broker data (default <state-dir>/data, kept between runs)',
    valueHint: 'dir',
  },
  port: { type: 'string', description: 'client port on 127.0.0.1 (default 9092)' },
  'controller-port': { type: 'string', description: 'KRaft controller port (default 9093)' },
} as const satisfies Record<string, ArgDef>;

export function kafkaOptions(args: {
  'state-dir'?: string | undefined;
  'data-dir'?: string | undefined;
  port?: string | undefined;
  'controller-port'?: string | undefined;
}): KafkaCommandOptions {
  const port = positiveIntFlag(args.port, 'port');
  const controllerPort = positiveIntFlag(args['controller-port'], 'controller-port');
  return {
    ...(args['state-dir'] !== undefined ? { stateDir: args['state-dir'] } : {}),
    ...(args['data-dir'] !== undefined ? { dataDir: args['data-dir'] } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(controllerPort !== undefined ? { controllerPort } : {}),
  };
}
