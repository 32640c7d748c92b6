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
