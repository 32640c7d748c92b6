import t from 'tap';
import { decideRecovery } from '../../runtime/recovery-runner.js';
import { InvalidStoreChangelogOffsetError } from '../../shared/errors/runtime-errors.js';

t.test('100. recovery check with LW=0, HW=20', async (t) => {
  for (const stored of [21, 20]) {
    t.throws(() => decideRecovery('s', 0, stored, 0, 20), InvalidStoreChangelogOffsetError, `stored ${stored} is invalid`);
  }
  t.same(decideRecovery('s', 0, 19, 0, 20), { kind: 'up-to-date' }, 'stored 19 = last record: up to date');
  t.same(decideRecovery('s', 0, 18, 0, 20), { kind: 'replay', from: 19, to: 20 });
  t.same(decideRecovery('s', 0, 17, 0, 20), { kind: 'replay', from: 18, to: 20 });
});

t.test('100. recovery check with LW=HW=20 never replays', async (t) => {
  for (const stored of [21, 20]) t.throws(() => decideRecovery('s', 0, stored, 20, 20), InvalidStoreChangelogOffsetError);
  for (const stored of [19, 18, 17]) t.same(decideRecovery('s', 0, stored, 20, 20), { kind: 'up-to-date' });
});

t.test('101. where replay starts: beginning without a stored offset, after it otherwise', async (t) => {
  t.same(decideRecovery('s', 0, undefined, 0, 10), { kind: 'replay', from: 0, to: 10 });
  // weir resumes after the stored offset; Quix Streams re-applies it; both are idempotent
  // (docs/semantics.md §5.2).
  t.same(decideRecovery('s', 0, 0, 0, 10), { kind: 'replay', from: 1, to: 10 });
  t.same(decideRecovery('s', 0, 1, 0, 10), { kind: 'replay', from: 2, to: 10 });
  t.same(decideRecovery('s', 0, undefined, 5, 10), { kind: 'replay', from: 5, to: 10 }, 'from the low watermark');
  t.same(decideRecovery('s', 0, 2, 5, 10), { kind: 'replay', from: 5, to: 10 }, 'records below LW are gone');
});

t.test('107. stored offset 22 with watermarks (0,20) is an error naming store and partition', async (t) => {
  const error = t.throws(() => decideRecovery('counts', 3, 22, 0, 20)) as Error;
  t.match(error.message, /store counts partition 3/);
  t.match(error.message, /22/);
  t.match(error.message, /weir state clear/);
});

t.test('108. a single changelog record and no stored offset needs recovery', async (t) => {
  t.same(decideRecovery('s', 0, undefined, 0, 1), { kind: 'replay', from: 0, to: 1 });
});

t.test('an empty changelog keeps local state (HW=0 is never invalid)', async (t) => {
  t.same(decideRecovery('s', 0, 5, 0, 0), { kind: 'up-to-date' });
  t.same(decideRecovery('s', 0, undefined, 0, 0), { kind: 'up-to-date' });
});
