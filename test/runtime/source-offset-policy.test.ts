import t from 'tap';
import { resolveSourceOffset } from '../../runtime/source-offset-policy.js';
import { SourceOffsetOutOfRangeError } from '../../shared/errors/runtime-errors.js';

const tp = { topic: 'topic', partition: 0 };

t.test('145. committed 10, watermarks (20, 30)', async (t) => {
  t.same(resolveSourceOffset(tp, 10, 20, 30, 'earliest', 'latest'), { kind: 'reset', seekTo: 20, recoveryBoundary: 20 },
    'default policy: destroy, recover with {topic: 20}, seek 20');
  t.same(resolveSourceOffset(tp, 10, 20, 30, 'latest', 'earliest'), { kind: 'reset', seekTo: 30, recoveryBoundary: 0 },
    'latest: recover with {topic: 0}, seek 30');
  t.same(resolveSourceOffset(tp, 10, 20, 30, 'match', 'latest'), { kind: 'reset', seekTo: 30, recoveryBoundary: 0 },
    'match follows autoOffsetReset latest');
  t.same(resolveSourceOffset(tp, 10, 20, 30, 'match', 'earliest'), { kind: 'reset', seekTo: 20, recoveryBoundary: 20 });
  const error = t.throws(() => resolveSourceOffset(tp, 10, 20, 30, 'error', 'earliest'), SourceOffsetOutOfRangeError) as Error;
  t.match(error.message, /consumer group offset 10 for topic topic\[0\] is below the low watermark 20/);
});

t.test('offsets in range, absent or logical are left alone', async (t) => {
  for (const committed of [20, 25, 30, undefined, -1001]) {
    t.same(resolveSourceOffset(tp, committed, 20, 30, 'error', 'earliest'), { kind: 'in-range' }, `committed ${committed}`);
  }
});
