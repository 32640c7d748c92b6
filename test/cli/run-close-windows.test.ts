/** `weir run`'s window options as a user sees them: the help text and a refused combination. */
import t from 'tap';
import { runWeir } from './fixtures/run-weir.js';

t.setTimeout(120_000);

t.test('weir run --help says how windows behave at the end of input and after a restart', async (t) => {
  const result = await runWeir(['run', '--help']);
  t.equal(result.code, 0);
  const help = result.stdout.replace(/\s+/g, ' '); // commander wraps to the terminal width
  for (const text of [
    '--close-windows with --until-idle: at the end of input close every open window and emit it as a final result',
    'a closed window is never re-opened by later records',
    '--until-idle stop with a final checkpoint once every assigned partition has been read to its end; open windows stay open in state',
    'Windows at the end of input and after a restart (docs/windows.md)',
    'the next run (or a rebuild from the changelog) continues them',
    'a later record for a closed window is late (onLate), later windows open as usual',
  ]) {
    t.ok(help.includes(text), text);
  }
});

t.test('--close-windows without --until-idle is refused before anything runs', async (t) => {
  const result = await runWeir(['run', '-c', 'does-not-exist.yaml', '--close-windows']);
  t.equal(result.code, 1);
  t.equal(result.stderr, 'weir: --close-windows needs --until-idle: windows are closed once the input has been read to its end (a run stopped by a signal leaves them open)\n');
});
