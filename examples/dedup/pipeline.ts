/**
 * Deduplication with per-write TTL: the message key is the event id; the first event of an
 * id goes to `unique-payments`, repeats within DEDUP_WINDOW_MS of it (event time) are
 * dropped. The store keeps each id only for that long, so it does not grow with every id
 * ever seen, and expired ids are deleted from the changelog too.
 */
// Inside the repo the pipeline imports the light module directly (users write 'weir' or 'weir/pipeline').
import { definePipeline } from '../../shared/pipeline/pipeline-definition.js';

const DEDUP_WINDOW_MS = 10 * 60 * 1000;

export default definePipeline({
  stores: { seen: { preload: ['firstSeenAt'] } },
  process(record, context) {
    const seen = context.state('seen');
    if (seen.exists('firstSeenAt')) return;
    seen.set('firstSeenAt', record.timestamp, { ttlMs: DEDUP_WINDOW_MS });
    context.emit('unique-payments', { key: record.key ?? null, value: record.value ?? null });
  },
});
