/**
 * The main example job: counts records per message key.
 * For each record of `events`, increments state key "count" under the record's key in
 * store `counts` and emits the new count to `counts` (key = the record's key).
 */
// Inside the repo the pipeline imports the light module directly (users write 'weir' or 'weir/pipeline').
import { definePipeline } from '../../shared/pipeline/pipeline-definition.js';

export default definePipeline({
  stores: {
    // "count" is read for every record: weir loads it for a whole batch in one call.
    counts: { preload: ['count'] },
  },
  process(record, context) {
    const state = context.state('counts');
    const count = (state.get<number>('count', 0) ?? 0) + 1;
    state.set('count', count);
    context.emit('counts', { key: record.key ?? null, value: count });
  },
});
