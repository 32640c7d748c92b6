/**
 * Starts librdkafka's in-process mock cluster for tests and gives its bootstrap
 * address. Other clients, in this process or others, connect to it while it lives.
 *
 * The cluster is hosted by a librdkafka handle created through librdkafka's C API
 * (loaded with koffi from the very library @confluentinc/kafka-javascript links, so it
 * is the same library instance) rather than by a JS client, because only the C API can
 * create mock topics with a chosen partition count: the mock does not answer
 * CreateTopics, and topics it auto-creates always get 4 partitions.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import koffi from 'koffi';

export interface MockCluster {
  /** Comma-separated `host:port` list of the mock brokers. */
  readonly bootstrapServers: string;
  /** Creates `name` with `partitions` partitions (what CreateTopics would do on a real cluster). */
  createTopic(name: string, partitions: number): void;
  /**
   * The next `errors.length` requests of API `apiKey` (from any client) fail with these
   * Kafka error codes, in order — e.g. OffsetCommit (8) refused with REBALANCE_IN_PROGRESS (27).
   */
  pushRequestErrors(apiKey: number, errors: readonly number[]): void;
  /** Stops the cluster. */
  stop(): Promise<void>;
}

/** Kafka API keys tests inject errors into. */
export const API_KEY = { OffsetCommit: 8 } as const;

interface Librdkafka {
  confNew(): unknown;
  confSet(conf: unknown, name: string, value: string, errstr: Buffer, size: number): number;
  create(type: number, conf: unknown, errstr: Buffer, size: number): unknown;
  destroy(handle: unknown): void;
  mockCluster(handle: unknown): unknown;
  bootstraps(cluster: unknown): string;
  topicCreate(cluster: unknown, topic: string, partitions: number, replicationFactor: number): number;
  initialRebalanceDelay(cluster: unknown, delayMs: number): void;
  pushRequestErrors(cluster: unknown, apiKey: number, count: number, errors: Int32Array): void;
}

let library: Librdkafka | undefined;

function librdkafka(): Librdkafka {
  if (library) return library;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@confluentinc/kafka-javascript/package.json'));
  const lib = koffi.load(join(root, 'build', 'deps', 'librdkafka.so.1'));
  library = {
    confNew: lib.func('void *rd_kafka_conf_new()'),
    confSet: lib.func('int rd_kafka_conf_set(void *conf, const char *name, const char *value, _Out_ uint8_t *errstr, size_t size)'),
    create: lib.func('void *rd_kafka_new(int type, void *conf, _Out_ uint8_t *errstr, size_t size)'),
    destroy: lib.func('void rd_kafka_destroy(void *rk)'),
    mockCluster: lib.func('void *rd_kafka_handle_mock_cluster(void *rk)'),
    bootstraps: lib.func('const char *rd_kafka_mock_cluster_bootstraps(void *mcluster)'),
    topicCreate: lib.func('int rd_kafka_mock_topic_create(void *mcluster, const char *topic, int partitions, int rf)'),
    initialRebalanceDelay: lib.func('void rd_kafka_mock_group_initial_rebalance_delay_ms(void *mcluster, int32_t delay_ms)'),
    pushRequestErrors: lib.func('void rd_kafka_mock_push_request_errors_array(void *mcluster, int16_t api_key, size_t cnt, const int32_t *errors)'),
  };
  return library;
}

function errorText(buffer: Buffer): string {
  const end = buffer.indexOf(0);
  return buffer.subarray(0, end < 0 ? buffer.length : end).toString('utf8');
}

/** The mock coordinator's wait after a group's first join (the mock's default is 3,000 ms). */
const INITIAL_REBALANCE_DELAY_MS = 100;

export async function startMockCluster(brokers = 3): Promise<MockCluster> {
  const rd = librdkafka();
  const errstr = Buffer.alloc(512);
  const conf = rd.confNew();
  for (const [name, value] of [
    ['test.mock.num.brokers', String(brokers)],
    ['log_level', '3'],
  ] as const) {
    if (rd.confSet(conf, name, value, errstr, errstr.length) !== 0) throw new Error(`mock cluster: ${name}: ${errorText(errstr)}`);
  }
  // RD_KAFKA_PRODUCER = 0; rd_kafka_new takes ownership of conf.
  const handle = rd.create(0, conf, errstr, errstr.length);
  if (handle === null) throw new Error(`mock cluster: ${errorText(errstr)}`);
  const cluster = rd.mockCluster(handle);
  // The mock's coordinator, like a broker's group.initial.rebalance.delay.ms, waits 3 s after
  // a group's first member joins before assigning; every job run in a test paid it. A later
  // member still causes a normal rebalance, so tests of rebalances see the same protocol.
  rd.initialRebalanceDelay(cluster, INITIAL_REBALANCE_DELAY_MS);
  const bootstrapServers = rd.bootstraps(cluster);
  let stopped = false;
  return {
    bootstrapServers,
    createTopic(name, partitions) {
      const error = rd.topicCreate(cluster, name, partitions, Math.min(3, brokers));
      if (error !== 0) throw new Error(`mock cluster: create topic "${name}" failed with librdkafka error ${error}`);
    },
    pushRequestErrors(apiKey, errors) {
      rd.pushRequestErrors(cluster, apiKey, errors.length, Int32Array.from(errors));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      rd.destroy(handle);
    },
  };
}
