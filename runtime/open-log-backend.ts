/**
 * Opens the log backend a config names. Choosing a backend from the config happens here,
 * above shared/: the backends take their own option types and never import config/.
 * The local backend is always available; the Kafka backend is loaded on demand, so a job
 * on the local log never loads the native Kafka client (and a machine without it still
 * runs local jobs).
 */
import type { WeirConfig } from '../config/index.js';
import type { KafkaBackendOptions } from '../shared/log/kafka/kafka-log-backend.js';
import { LogBackendUnavailableError } from '../shared/errors/config-errors.js';
import type { LogBackend } from '../shared/log/log-backend.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { ensureKafkaClient, type KafkaClientLoader } from '../shared/log/kafka/kafka-client-loader.js';
import type { KafkaLogLevel } from '../shared/log/kafka/client-config.js';
import { weirLog } from '../shared/logging/weir-log.js';

/** Options of {@link openLogBackend}. */
export interface OpenLogBackendOptions {
  /**
   * Loads the Kafka client before the Kafka backend's modules (default: the real import).
   * Tests pass a failing one to see the error a machine without the client gets.
   */
  readonly loadKafkaClient?: KafkaClientLoader;
}

/**
 * The Kafka clients' own log lines (librdkafka's warnings and errors: a broker unreachable,
 * a session timed out, a heartbeat refused) go to weir's log, prefixed `kafka:`; its
 * informational and debug lines (the `debug` client property) go at debug level. One set of
 * client properties serves every client of a job, so librdkafka's warning that a consumer
 * property is ignored by a producer (and the reverse) is expected and kept at debug level.
 */
export function kafkaClientLog(level: KafkaLogLevel, message: string): void {
  const line = `kafka: ${message}`;
  if (level === 'error') weirLog.error(line);
  else if (level === 'warn' && !ROLE_PROPERTY_WARNING.test(message)) weirLog.warn(line);
  else weirLog.debug(line);
}

/** librdkafka's CONFWARN for a property of the other client role. */
const ROLE_PROPERTY_WARNING = /is a (consumer|producer) property and will be ignored by this (consumer|producer) instance/;

/** Module of the Kafka backend, relative to this file. */
const KAFKA_BACKEND_MODULE = '../shared/log/kafka/kafka-log-backend.js';

/** What the Kafka backend module must export. */
interface KafkaBackendModule {
  readonly KafkaLogBackend: { open(options: KafkaBackendOptions): Promise<LogBackend> };
}

function isKafkaBackendModule(module: unknown): module is KafkaBackendModule {
  const exported = (module as { KafkaLogBackend?: { open?: unknown } } | null)?.KafkaLogBackend;
  return typeof exported?.open === 'function';
}

async function loadKafkaBackendModule(): Promise<KafkaBackendModule> {
  let module: unknown;
  try {
    // A variable specifier: the module may be absent from a build, which must not break compilation.
    const specifier: string = KAFKA_BACKEND_MODULE;
    module = await import(specifier);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] ?? String(error) : String(error);
    throw new LogBackendUnavailableError('kafka', `cannot load ${KAFKA_BACKEND_MODULE}: ${reason}`, { cause: error });
  }
  if (!isKafkaBackendModule(module)) {
    throw new LogBackendUnavailableError('kafka', `${KAFKA_BACKEND_MODULE} does not export KafkaLogBackend.open`);
  }
  return module;
}

/**
 * Opens the backend of `config.log`: `local` at `config.log.path`, or `kafka` with its
 * brokers and client properties. The caller closes it.
 * @throws KafkaClientUnavailableError when the Kafka client (an optional dependency) is
 * not installed or its native addon does not load.
 * @throws LogBackendUnavailableError when the Kafka backend's own module cannot be loaded.
 */
export async function openLogBackend(config: Pick<WeirConfig, 'log'>, options: OpenLogBackendOptions = {}): Promise<LogBackend> {
  const log = config.log;
  switch (log.backend) {
    case 'local':
      return LocalLogBackend.open(log.path);
    case 'kafka': {
      // First the client alone, so a missing client gets its own error rather than
      // a failed import of the backend module that imports it.
      await ensureKafkaClient(options.loadKafkaClient);
      const { KafkaLogBackend } = await loadKafkaBackendModule();
      return KafkaLogBackend.open({ ...log, logger: kafkaClientLog });
    }
  }
}
