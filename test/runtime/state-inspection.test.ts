import t from 'tap';
import { splitStoredKey, splitWindowKey } from '../../workers/state/stored-keys.js';
import { encodeWindowKey, joinPrefixedKey, encodeJson } from '../../shared/codecs/index.js';

t.test('stored keys split back into message key and state key', async (t) => {
  t.same(splitStoredKey(joinPrefixedKey(encodeJson('user|1'), encodeJson('count'))), { key: 'user|1', stateKey: 'count' });
  t.same(splitStoredKey(encodeJson('count')), { key: null, stateKey: 'count' }, 'no prefix');
});

t.test('window keys decode to the message key and the window bounds', async (t) => {
  t.same(splitWindowKey(encodeWindowKey(encodeJson('sensor-1'), 1_000, 11_000)), {
    key: 'sensor-1',
    stateKey: { start: 1_000, end: 11_000 },
  });
  t.same(splitWindowKey(joinPrefixedKey(encodeJson('k'), encodeJson('metadata'))), { key: 'k', stateKey: 'metadata' },
    'count-window metadata is a plain key');
});
