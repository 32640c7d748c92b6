/**
 * CPU time of the calling thread. Node 20 has no per-thread CPU clock, and event-loop
 * utilization is wall-clock time: on a busy machine it counts the time a thread waited
 * for a core as busy (it measured the coordinator at 25 µs/record where its real CPU
 * time was 3). Linux exposes each thread's CPU time in `/proc/thread-self/stat`
 * (utime and stime, in USER_HZ ticks, which the kernel ABI fixes at 100 per second);
 * elsewhere this falls back to event-loop utilization.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const USER_HZ = 100;

function procThreadCpuMillis(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / USER_HZ : undefined;
  } catch {
    return undefined;
  }
}

/** Where {@link threadCpuMillis} gets its numbers from. */
export type ThreadCpuSource = 'proc' | 'event-loop';

/** A reading of the calling thread's CPU time, in milliseconds since the thread started. */
export function threadCpuMillis(): { millis: number; source: ThreadCpuSource } {
  const proc = procThreadCpuMillis();
  if (proc !== undefined) return { millis: proc, source: 'proc' };
  return { millis: performance.eventLoopUtilization().active, source: 'event-loop' };
}
