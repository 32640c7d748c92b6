import type { LateRecord } from '../../shared/pipeline/windows.js';
import type { WarningSink, WindowInput } from './window-operator.js';

/** Reports a late record: the callback first, then a warning unless the callback returned a falsy value. */
export function reportLate(
  onLate: ((late: LateRecord<never>) => boolean | void) | undefined,
  warn: WarningSink,
  store: string,
  record: WindowInput,
  lateByMs: number,
  start: number,
  end: number,
  /** Sliding and session windows include their end. */
  endInclusive = false,
): void {
  const late: LateRecord<unknown> = {
    value: record.value,
    key: record.key,
    timestamp: record.timestamp,
    lateByMs,
    start,
    end,
    store,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
  };
  const log = onLate === undefined ? true : onLate(late as LateRecord<never>) === true;
  if (log) {
    warn(
      `Skipping window processing for the closed window [${start}, ${end}${endInclusive ? ']' : ')'} of store "${store}": ` +
        `${record.topic}[${record.partition}]@${record.offset} timestamp ${record.timestamp} is ${lateByMs} ms late`,
    );
  }
}
