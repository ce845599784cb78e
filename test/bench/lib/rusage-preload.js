// Preloaded into the staplewarm processes the benchmark times (`node --import <this file>`): at exit,
// the process writes its own resource usage (getrusage: peak RSS and CPU time, exact, to the end) to
// the file named by BENCH_RUSAGE_FILE. /proc/<pid> disappears at exit, so sampling it from outside
// misses the last moments, which is when a short `warm` is busiest.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    try {
      writeFileSync(
        file,
        JSON.stringify({
          maxRssBytes: usage.maxRSS * 1024,
          cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
          userMs: usage.userCPUTime / 1000,
          systemMs: usage.systemCPUTime / 1000,
        }),
      );
    } catch {
      // the benchmark falls back to what it sampled from /proc
    }
  });
}
