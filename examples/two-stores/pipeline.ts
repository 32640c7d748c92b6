/**
 * A pipeline with two stores and an output topic: per message key, the running total of
 * `amount` (store `totals`) and the largest single amount seen (store `maxima`); every
 * record emits the key's current statistics to `stats`.
 */
// Inside the repo the pipeline imports the light module directly (users write 'weir' or 'weir/pipeline').
import { definePipeline } from '../../shared/pipeline/pipeline-definition.js';

interface Purchase {
  readonly amount: number;
}

export default definePipeline({
  stores: {
    totals: { preload: ['sum', 'count'] },
    maxima: { preload: ['max'] },
  },
  process(record, context) {
    const purchase = record.value as unknown as Purchase;
    const totals = context.state('totals');
    const maxima = context.state('maxima');
    const sum = (totals.get<number>('sum', 0) ?? 0) + purchase.amount;
    const count = (totals.get<number>('count', 0) ?? 0) + 1;
    const max = Math.max(maxima.get<number>('max', Number.NEGATIVE_INFINITY) ?? Number.NEGATIVE_INFINITY, purchase.amount);
    totals.set('sum', sum);
    totals.set('count', count);
    maxima.set('max', max);
    context.emit('stats', { key: record.key ?? null, value: { sum, count, max, mean: sum / count } });
  },
});
