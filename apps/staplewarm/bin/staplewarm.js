#!/usr/bin/env node
import module from 'node:module';

// warm, worker and serve on Node 22+ start again at once with V8's young generation capped as on
// Node 20 (src/heap.ts): their peak memory, not set-able from inside the process.
(await import('../dist/heap.js')).capYoungGeneration(process.argv[2]);

// Node >= 22.1 keeps compiled code on disk (under the OS temp dir) between runs: start-up, which
// every cron-driven `warm` pays, is ~15 % shorter on Node 24. Node 20 has no such cache.
module.enableCompileCache?.();
await import('../dist/main.js');
