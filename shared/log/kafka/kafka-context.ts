/**
 * What every client of one backend shares: its configuration input, the secret
 * redactor, the logger, and the translation of librdkafka errors into weir errors.
 */
import type { EventEmitter } from 'node:events';
import { KafkaClientError } from '../../errors/kafka-errors.js';
import { logLevelOf, type ClientConfigInput, type KafkaLogLevel } from './client-config.js';
import { isLibrdKafkaError, type KafkaConsumer, type Producer } from './rdkafka.js';
import { SecretRedactor } from './secret-redaction.js';

export type KafkaLogger = (level: KafkaLogLevel, message: string) => void;

export class KafkaContext {
  readonly config: ClientConfigInput;
  readonly redactor: SecretRedactor;
  private readonly logger: KafkaLogger | undefined;
  /** Budget for one broker round trip (metadata, watermarks, commits). */
  readonly requestTimeoutMs: number;

  constructor(config: ClientConfigInput, logger: KafkaLogger | undefined, requestTimeoutMs: number) {
    this.config = config;
    this.redactor = new SecretRedactor(config.properties);
    this.logger = logger;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  log(level: KafkaLogLevel, message: string): void {
    this.logger?.(level, this.redactor.redact(message));
  }

  /** Forwards the client's librdkafka log lines and error events to the logger, redacted. */
  attachLogging(client: Producer | KafkaConsumer, role: string): void {
    const emitter: EventEmitter = client;
    emitter.on('event.log', (line: { severity: number; fac: string; message: string }) => {
      this.log(logLevelOf(line.severity), `[${role}] ${line.fac}: ${line.message}`);
    });
    emitter.on('event.error', (error: Error) => {
      this.log('error', `[${role}] ${error.message}`);
    });
  }

  /** A weir error for a failed librdkafka call, its message redacted. */
  error(operation: string, cause: unknown): KafkaClientError {
    if (cause instanceof KafkaClientError) return cause;
    const detail = this.redactor.redact(cause instanceof Error ? cause.message : String(cause));
    if (isLibrdKafkaError(cause)) {
      return new KafkaClientError(this.redactor.redact(operation), detail, {
        kafkaCode: cause.code,
        retriable: cause.isRetriable ?? false,
        fatal: cause.isFatal ?? false,
      });
    }
    // The cause is dropped on purpose: it may carry the unredacted message.
    return new KafkaClientError(this.redactor.redact(operation), detail);
  }
}
