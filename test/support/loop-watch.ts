/**
 * Measuring event-loop turns in tests on a shared machine.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Watches the event loop while `run` goes: a 1 ms interval timer records the
 * longest gap between its ticks (a turn that held the loop delays it), and
 * monitorEventLoopDelay its own view. On a shared machine the process can be
 * descheduled in the middle of a gap, which lengthens it without any turn
 * being long; the CPU time the process spent in the gap (process.cpuUsage,
 * all threads) bounds what the loop did, so a gap counts as the smaller of
 * the two.
 */
export async function watchLoop<T>(run: () => Promise<T>): Promise<{ value: T; elapsedMs: number; maxGapMs: number; maxTurnMs: number; histogramMaxMs: number; ticks: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let maxGapMs = 0;
  let maxTurnMs = 0;
  let ticks = 0;
  const tick = (): void => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const gap = now - last;
    maxGapMs = Math.max(maxGapMs, gap);
    maxTurnMs = Math.max(maxTurnMs, Math.min(gap, (cpu.user + cpu.system) / 1000));
    last = now;
    lastCpu = process.cpuUsage();
    ticks++;
  };
  const timer = setInterval(tick, 1);
  const started = performance.now();
  try {
    const value = await run();
    const elapsedMs = performance.now() - started;
    // Let the timer fire once after the last slice, so that slice is measured too.
    await new Promise((resolve) => setTimeout(resolve, 5));
    tick();
    return { value, elapsedMs, maxGapMs, maxTurnMs, histogramMaxMs: histogram.max / 1e6, ticks };
  } finally {
    clearInterval(timer);
    histogram.disable();
  }
}

