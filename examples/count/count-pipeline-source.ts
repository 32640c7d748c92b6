/**
 * The count example's pipeline as plain ESM JavaScript source, for tests and benchmarks
 * that write a throwaway job to a temporary folder (a `.mjs` pipeline loads without tsx
 * in every worker thread). Same behaviour as ./pipeline.ts.
 */
export function countPipelineSource(outputTopic = 'counts'): string {
  return `
export default {
  stores: { counts: { preload: ['count'] } },
  process(record, context) {
    const state = context.state('counts');
    const count = state.get('count', 0) + 1;
    state.set('count', count);
    context.emit(${JSON.stringify(outputTopic)}, { key: record.key ?? null, value: count });
  },
};
`;
}
