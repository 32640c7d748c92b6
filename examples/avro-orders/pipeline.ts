/**
 * Orders per customer: the key is the customer id (a plain string), the value an Avro
 * `Order` (weir decodes it into a plain object with the reader schema, order.avsc). The
 * running count and total go to state and out as a Protobuf `OrderCount`.
 */
// Inside the repo the pipeline imports the light module directly (users write 'weir' or 'weir/pipeline').
import { definePipeline } from '../../shared/pipeline/pipeline-definition.js';

interface Order {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
}

export default definePipeline({
  stores: { orders: { preload: ['count', 'total'] } },
  process(record, context) {
    const order = record.value as unknown as Order;
    const state = context.state('orders');
    const count = (state.get<number>('count', 0) ?? 0) + 1;
    const total = (state.get<number>('total', 0) ?? 0) + order.amount;
    state.set('count', count);
    state.set('total', total);
    context.emit('order-counts', { key: record.key ?? null, value: { customer: record.key as string, orders: count, total } });
  },
});
