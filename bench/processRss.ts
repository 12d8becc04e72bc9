/**
 * @module bench/processRss
 * Resident memory of a process tree from /proc, for the memory benchmarks (Linux only).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Sum of VmRSS (kB) of a process and all its descendants (0 once it has ended). */
export function treeRssKb(pid: number): number {
  let total = 0;
  const visit = (p: number): void => {
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const c of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) visit(Number(c));
      }
    } catch {
      // gone meanwhile
    }
  };
  visit(pid);
  return total;
}

/** The process's own high-water mark (`VmHWM`, kB: `/usr/bin/time -v`'s "Maximum resident set size"); 0 once it has ended. */
export function highWaterKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
