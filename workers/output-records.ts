/**
 * How a partition's outputs become records: user emits, window results and dead letters
 * are encoded here (key, value, headers, timestamp) and added to the worker's
 * {@link OutputBatches}. Written straight into the batches, without an intermediate
 * record object, because emitting is on the per-record path.
 */
import type { RecordHeader } from '../shared/log/log-backend.js';
import type { InputRecord, OutputRecord } from '../shared/pipeline/pipeline-definition.js';
import type { TopicFormats } from '../shared/serialization/topic-formats.js';
import type { Format } from '../shared/serialization/format.js';
import { InvalidOutputTimestampError } from '../shared/errors/runtime-errors.js';
import { isSaneTimestamp } from '../shared/timestamps.js';
import { formatNamesOf, rawValueOf } from './record-decoding.js';
import type { OutputBatches } from './output-batches.js';
import type { WindowResult } from './windows/window-operator.js';

const encoder = new TextEncoder();
const NO_HEADERS: RecordHeader[] = [];

/** A value as the output batches take it: text for text formats (written as UTF-8 into the batch), bytes otherwise. */
function serializedForBatch(format: Format, value: unknown): Uint8Array | string {
  return format.serializeText !== undefined ? format.serializeText(value) : format.serialize(value);
}

export class OutputRecords {
  constructor(
    private readonly outputs: OutputBatches,
    private readonly formats: TopicFormats,
  ) {}

  /** A record the pipeline emitted while processing `input` (its timestamp defaults to the input's). */
  emit(topic: string, output: OutputRecord, input: InputRecord): void {
    if (output.timestamp !== undefined && !isSaneTimestamp(output.timestamp)) {
      throw new InvalidOutputTimestampError(topic, output.timestamp);
    }
    const headers: RecordHeader[] =
      output.headers === undefined ? NO_HEADERS : Object.entries(output.headers).map(([key, value]) => ({ key, value: encoder.encode(value) }));
    const formats = this.formats.of(topic);
    // Re-emitting the input's key is the common case: reuse its bytes instead of re-encoding
    // when the output topic writes keys as the input topic has them.
    const key =
      output.key === undefined || output.key === null
        ? null
        : output.key === input.key && input.rawKey !== null && formats.key.sameEncodingAs(this.formats.format(input.topic, 'key'))
          ? input.rawKey
          : formats.key.serialize(output.key);
    // JSON writes a null value as `null` (as before formats); other formats write a tombstone.
    const value = output.value === null && formats.value.name !== 'json' ? null : serializedForBatch(formats.value, output.value);
    this.outputs.add(topic, key, value, headers, output.timestamp ?? input.timestamp);
  }

  /** A window result: keyed by the window's key prefix, stamped with the window start. */
  windowResult(topic: string, result: WindowResult): void {
    this.outputs.add(topic, result.prefix, serializedForBatch(this.formats.format(topic, 'value'), result.payload), NO_HEADERS, result.start);
  }

  /**
   * The dead letter of `record`: its original bytes (so it can be replayed as it was) with
   * its headers plus `weir.error`, `weir.format` and `weir.source`.
   */
  deadLetter(topic: string, record: InputRecord, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.outputs.add(
      topic,
      record.rawKey,
      rawValueOf(record),
      [
        ...Object.entries(record.headers).map(([key, value]) => ({ key, value: encoder.encode(value) })),
        { key: 'weir.error', value: encoder.encode(message) },
        { key: 'weir.format', value: encoder.encode(formatNamesOf(record)) },
        { key: 'weir.source', value: encoder.encode(`${record.topic}[${record.partition}]@${record.offset}`) },
      ],
      record.timestamp,
    );
  }
}
