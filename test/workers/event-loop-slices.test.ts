/**
 * EventLoopSlices (workers/event-loop-slices.ts): nothing to await within a slice; once
 * it is used up, a promise that resolves after the event loop has run (a port message
 * waiting meanwhile is handled before processing goes on), and a new slice starts. The clock is
 * the test's, so a loaded machine cannot change the outcome.
 */
import t from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { EventLoopSlices } from '../../workers/event-loop-slices.js';
import { ControlCallCounter, ControlCallWatch } from '../../shared/protocol/control-calls.js';

t.test('no yield within a slice; after it, a yield that lets the loop run', async (t) => {
  let clock = 100;
  const slices = new EventLoopSlices(1, undefined, () => clock);
  t.equal(slices.due(), undefined, 'a fresh slice: nothing to await');
  clock = 100.9;
  t.equal(slices.due(), undefined, 'still within the slice');
  // A message waiting on a port, as a query waits on the worker's control port.
  const { port1, port2 } = new MessageChannel();
  t.teardown(() => port1.close());
  let received = false;
  port1.on('message', () => (received = true));
  port2.postMessage('query');
  clock = 101;
  const pause = slices.due();
  t.ok(pause instanceof Promise, 'slice used up: a promise');
  t.notOk(received, 'the message has not been handled yet');
  clock = 101.2;
  await pause;
  t.ok(received, 'the loop ran (the port message was handled) before processing goes on');
  clock = 102.1;
  t.equal(slices.due(), undefined, 'the new slice started when the loop had run (101.2)');
  clock = 102.2;
  t.ok(slices.due() instanceof Promise, 'and ends a slice later');
});

t.test('records processed one slice at a time: one yield per slice', async (t) => {
  let clock = 0;
  const slices = new EventLoopSlices(2, undefined, () => clock);
  let yields = 0;
  for (let record = 0; record < 100; record++) {
    clock += 0.1; // each record takes 0.1 ms
    const pause = slices.due();
    if (pause !== undefined) {
      yields++;
      await pause;
    }
  }
  t.equal(yields, 4, '10 ms of processing in 2 ms slices: a yield after every 20 records (the last slice is not used up)');
});

t.test('with the count of control calls: no yield while none waits, one at once when a call arrives, slices until it is answered', async (t) => {
  let clock = 0;
  const counter = new ControlCallCounter();
  const slices = new EventLoopSlices(1, new ControlCallWatch(counter.buffer), () => clock);
  clock = 50;
  t.equal(slices.due(), undefined, 'no call waits: processing runs on, however long');
  let answer!: (value: string) => void;
  let sent = false;
  const call = counter.track(() => {
    sent = true;
    return new Promise<string>((resolve) => (answer = resolve));
  });
  t.ok(sent, 'the call is sent at once');
  const first = slices.due();
  t.ok(first instanceof Promise, 'a new call: a turn at once, within the slice');
  await first;
  clock = 50.5;
  t.equal(slices.due(), undefined, 'the call still waits: the next turn after a slice');
  clock = 51.1;
  const second = slices.due();
  t.ok(second instanceof Promise, 'a slice later, another turn');
  await second;
  answer('done');
  t.equal(await call, 'done', 'the caller gets the answer');
  clock = 60;
  t.equal(slices.due(), undefined, 'answered: no more turns');
  const failing = counter.track(() => Promise.reject(new Error('worker gone')));
  await t.rejects(failing, /worker gone/, 'a failed call rejects as it did');
  t.ok(slices.due() instanceof Promise, 'a call that fails counts as sent…');
  clock = 70;
  t.equal(slices.due(), undefined, '…and as answered');
});

t.test('while a query is answered: a turn after every record, within the slice; back to slices once it settles', async (t) => {
  let clock = 0;
  const counter = new ControlCallCounter();
  const slices = new EventLoopSlices(1, new ControlCallWatch(counter.buffer), () => clock);
  let finish!: (entries: string[]) => void;
  const answer = slices.answering(() => new Promise<string[]>((resolve) => (finish = resolve)));
  clock = 0.01;
  const first = slices.due();
  t.ok(first instanceof Promise, 'answering: a turn after this record');
  await first;
  clock = 0.02;
  t.ok(slices.due() instanceof Promise, 'and after the next one');
  finish(['entry']);
  t.same(await answer, ['entry'], 'the answer passes through');
  clock = 0.5;
  t.equal(slices.due(), undefined, 'answered, no call counted: processing runs on');
  const failing = slices.answering(() => Promise.reject(new Error('store closed')));
  await t.rejects(failing, /store closed/, 'a failed answer rejects as it did');
  t.equal(slices.due(), undefined, 'and ends the turns after every record');
});
