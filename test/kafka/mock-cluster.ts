/**
 * Starts librdkafka's in-process mock cluster for tests: a host client with
 * `test.mock.num.brokers` creates it, and its bootstrap address is read from the
 * client's log line "Mock cluster enabled: ... replaced with 127.0.0.1:PORT,...".
 * Other clients (in this process or others) connect to it while the host lives.
 */
import type { EventEmitter } from 'node:events';
import Kafka from '@confluentinc/kafka-javascript';

export interface MockCluster {
  /** Comma-separated `host:port` list of the mock brokers. */
  readonly bootstrapServers: string;
  /** Stops the cluster by disconnecting its host client. */
  stop(): Promise<void>;
}

export async function startMockCluster(brokers = 3): Promise<MockCluster> {
  let address: string | undefined;
  const config: Record<string, string | number> = {
    'test.mock.num.brokers': brokers,
    // Ignored by the mock, but librdkafka requires one.
    'bootstrap.servers': '127.0.0.1:1',
    log_level: 6,
  };
  const host = new Kafka.Producer(config);
  (host as EventEmitter).on('event.log', (line: { message: string }) => {
    const match = /Mock cluster enabled: .* replaced with (\S+)/.exec(line.message);
    if (match) address = match[1];
  });
  await new Promise<void>((resolve, reject) => host.connect({ timeout: 10_000 }, (error) => (error ? reject(error) : resolve())));
  if (address === undefined) {
    await new Promise<void>((resolve) => host.disconnect(() => resolve()));
    throw new Error('the mock cluster did not log its bootstrap address');
  }
  const bootstrapServers = address;
  return {
    bootstrapServers,
    stop: () => new Promise<void>((resolve) => host.disconnect(() => resolve())),
  };
}
