import { defineCommand } from 'citty';
import { runKafkaFetch } from '../../../kafka/local-broker/kafka-cli.js';
import { kafkaArgs, kafkaOptions } from './_args.js';

export default defineCommand({
  meta: {
    name: 'fetch',
    description: 'Download the Kafka jars with Maven into the cache (needs network once).',
  },
  args: kafkaArgs,
  run: ({ args }) => runKafkaFetch(kafkaOptions(args)),
});
