import { defineCommand } from 'citty';
import { runKafkaStop } from '../../../kafka/local-broker/kafka-cli.js';
import { kafkaArgs, kafkaOptions } from './_args.js';

export default defineCommand({
  meta: { name: 'stop', description: 'Stop a broker started by `modelwatch kafka start`.' },
  args: kafkaArgs,
  run: ({ args }) => runKafkaStop(kafkaOptions(args)),
});
