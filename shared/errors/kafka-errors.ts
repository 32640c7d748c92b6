/**
 * Errors raised by the Kafka log backend (`shared/log/kafka/`). Messages never carry
 * client property values: every librdkafka message is passed through the backend's
 * secret redaction before it reaches one of these.
 */
import { WeirError } from './weir-error.js';

/** A librdkafka call failed. `kafkaCode` is librdkafka's error code (negative = local). */
export class KafkaClientError extends WeirError {
  /** What the backend was doing, e.g. `produce to "orders"`. */
  readonly operation: string;
  readonly kafkaCode: number | undefined;
  /** librdkafka marks the error retriable: trying again may succeed. */
  readonly retriable: boolean;
  /** librdkafka marks the error fatal: the client is unusable and must be recreated. */
  readonly fatal: boolean;

  constructor(
    operation: string,
    detail: string,
    info: { kafkaCode?: number; retriable?: boolean; fatal?: boolean; cause?: unknown } = {},
  ) {
    super('KAFKA_CLIENT', `kafka: ${operation} failed: ${detail}`, { cause: info.cause });
    this.operation = operation;
    this.kafkaCode = info.kafkaCode;
    this.retriable = info.retriable ?? false;
    this.fatal = info.fatal ?? false;
  }
}

/** A Kafka transaction (append + offsets) was aborted; nothing of it became visible. */
export class KafkaTransactionAbortedError extends WeirError {
  readonly group: string;
  /** The producer hit a fatal error (e.g. fenced by a newer instance) and is closed. */
  readonly fatal: boolean;

  constructor(group: string, detail: string, fatal: boolean, options?: { cause?: unknown }) {
    super(
      'KAFKA_TRANSACTION_ABORTED',
      `kafka: transaction committing offsets for group "${group}" was aborted${fatal ? ' (fatal: producer closed)' : ''}: ${detail}`,
      options,
    );
    this.group = group;
    this.fatal = fatal;
  }
}

/** A Kafka operation did not finish within its time budget. */
export class KafkaTimeoutError extends WeirError {
  readonly operation: string;
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number) {
    super('KAFKA_TIMEOUT', `kafka: ${operation} did not finish within ${timeoutMs} ms`);
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * What of the Kafka client is missing: the package itself (it is an optional dependency,
 * left out when it could not be installed) or its native addon (the package is there but
 * librdkafka was not built or does not load on this machine).
 */
export type MissingKafkaClientPart = 'package' | 'native addon';

/** What building the Kafka client from source needs (when no prebuilt binary can be had). */
export const KAFKA_CLIENT_PREREQUISITES =
  'a C/C++ toolchain (make, g++), python3, pkg-config and the OpenSSL and zlib headers ' +
  '(Debian/Ubuntu: apt-get install build-essential python3 pkg-config libssl-dev zlib1g-dev)';

/** How to get a working Kafka client, by the part that is missing; shown in {@link KafkaClientUnavailableError}. */
export function kafkaClientFix(missing: MissingKafkaClientPart): string {
  const command =
    missing === 'package'
      ? 'run "npm install" in the weir folder (not with --omit=optional)'
      : 'run "npm run kafka-client" in the weir folder';
  return (
    `${command}: it downloads the prebuilt client, or builds it from source, which needs ${KAFKA_CLIENT_PREREQUISITES}; ` +
    'see "Installing" in the README. Or use log.backend: local, which needs no Kafka client'
  );
}

/**
 * The Kafka backend was chosen but its client, @confluentinc/kafka-javascript, cannot be
 * loaded. Says which part is missing and how to fix it.
 */
export class KafkaClientUnavailableError extends WeirError {
  readonly missing: MissingKafkaClientPart;
  /** First line of the loader's own error. */
  readonly reason: string;

  constructor(missing: MissingKafkaClientPart, reason: string, options?: { cause?: unknown }) {
    const what =
      missing === 'package'
        ? 'the Kafka client @confluentinc/kafka-javascript is not installed (it is an optional dependency: left out by --omit=optional, or by an npm older than 11 when its build failed)'
        : `the Kafka client @confluentinc/kafka-javascript is installed but its native addon (librdkafka) does not load: ${reason}`;
    super('KAFKA_CLIENT_UNAVAILABLE', `log.backend is kafka, but ${what}. To fix it, ${kafkaClientFix(missing)}`, options);
    this.missing = missing;
    this.reason = reason;
  }
}
