import { defineCommand } from 'citty';
import { runKafkaStart } from '../../../kafka/local-broker/kafka-cli.js';
import { kafkaArgs, kafkaOptions } from './_args.js';

export default defineCommand({
  meta: {
    name: 'start',
    description: 'Start the broker in the foreground (Ctrl-C stops it); prints KAFKA_BROKERS.',
  },
  args: kafkaArgs,
  run: ({ args }) => runKafkaStart(kafkaOptions(args)),
});
