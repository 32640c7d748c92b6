/**
 * Count windows (docs/semantics.md §7.5, §2.9): windows of N records per key, tumbling or hopping
 * (a new window every `step` records). One JSON document per key (`prefix|"metadata"`)
 * lists the open windows; collected values are stored under per-key message numbers.
 */
import type { WindowDeclaration } from '../../shared/pipeline/windows.js';
import { encodeUserKey } from '../../shared/codecs/index.js';
import { WindowAggregationRunner } from './window-aggregation.js';
import type { WindowInput, WindowOperator, WindowOutput, WindowResult } from './window-operator.js';
import type { WindowedTransaction } from '../state/windowed-transaction.js';

type CountDeclaration = Extract<WindowDeclaration<never>, { type: 'tumbling-count' | 'hopping-count' }>;

interface OpenCountWindow {
  count: number;
  start: number;
  end: number;
  aggregations: unknown;
  collection_start_id: number;
}

const METADATA_KEY = 'metadata';

/** See the module comment. */
export class CountWindowOperator implements WindowOperator {
  readonly #size: number;
  /** Undefined for tumbling. */
  readonly #step: number | undefined;
  readonly #aggregation: WindowAggregationRunner;

  constructor(
    readonly storeName: string,
    declaration: CountDeclaration,
  ) {
    this.#size = declaration.count;
    this.#step = declaration.type === 'hopping-count' ? declaration.step : undefined;
    this.#aggregation = new WindowAggregationRunner(declaration.aggregate);
  }

  async process(windows: WindowedTransaction, record: WindowInput): Promise<WindowOutput> {
    const { prefix, value, timestamp: t } = record;
    const tx = windows.transaction;
    const agg = this.#aggregation;
    const doc = ((await tx.getAsync(METADATA_KEY, prefix)) as { windows: OpenCountWindow[] } | undefined) ?? { windows: [] };
    const open = doc.windows;
    const fresh = (startId: number): OpenCountWindow => ({ count: 0, start: t, end: t, aggregations: agg.initialize(), collection_start_id: startId });
    if (open.length === 0) open.push(fresh(0));
    else if (this.#step !== undefined && open[0]!.count % this.#step === 0) open.push(fresh(open[0]!.collection_start_id + open[0]!.count));
    const messageId = open[0]!.collection_start_id + open[0]!.count;
    if (agg.collects) windows.addToCollection(agg.project(value), messageId, prefix);

    const updated: WindowResult[] = [];
    const expired: WindowResult[] = [];
    const stillOpen: OpenCountWindow[] = [];
    for (const w of open) {
      w.count += 1;
      w.start = Math.min(w.start, t);
      w.end = Math.max(w.end, t);
      w.aggregations = agg.aggregate(w.aggregations, value, t);
      if (!agg.collects) updated.push({ prefix, start: w.start, end: w.end, payload: agg.payload(w.start, w.end, w.aggregations, []) });
      if (w.count >= this.#size) {
        const startId = w.collection_start_id;
        const collected = agg.collects ? await windows.getFromCollection(startId, startId + this.#size, prefix) : [];
        if (agg.collects) await windows.deleteFromCollection(startId + (this.#step ?? this.#size), prefix, 0);
        expired.push({ prefix, start: w.start, end: w.end, payload: agg.payload(w.start, w.end, w.aggregations, collected) });
      } else {
        stillOpen.push(w);
      }
    }
    tx.set(METADATA_KEY, { windows: stillOpen }, prefix);
    return { updated, expired };
  }

  /** Emits every open window, also those with fewer than `count` records; counting restarts with the next record. */
  async closeAll(windows: WindowedTransaction): Promise<WindowResult[]> {
    const tx = windows.transaction;
    const agg = this.#aggregation;
    const out: WindowResult[] = [];
    const suffix = encodeUserKey(METADATA_KEY);
    const isMetadata = (key: Uint8Array): boolean => Buffer.from(key.subarray(key.length - suffix.length)).equals(suffix);
    for (const prefix of await windows.prefixesWith(suffix.length, isMetadata)) {
      const doc = (await tx.getAsync(METADATA_KEY, prefix)) as { windows: OpenCountWindow[] } | undefined;
      if (doc === undefined || doc.windows.length === 0) continue;
      for (const w of doc.windows) {
        const startId = w.collection_start_id;
        const collected = agg.collects ? await windows.getFromCollection(startId, startId + w.count, prefix) : [];
        out.push({ prefix, start: w.start, end: w.end, payload: agg.payload(w.start, w.end, w.aggregations, collected) });
      }
      if (agg.collects) await windows.deleteFromCollection(Number.MAX_SAFE_INTEGER, prefix, 0);
      tx.set(METADATA_KEY, { windows: [] }, prefix);
    }
    return out;
  }
}
