/**
 * How fast this machine runs a fixed piece of JavaScript right now: milliseconds for 3 million JSON.stringify calls of
 * small objects (~0.7-1.2 s on the project's machine). A virtual machine's speed can drift by itself: on the project's
 * 2-core machine this took 673-1,236 ms at different minutes with nothing else running, which moves every absolute
 * figure of a run with it. Taken at the start and the end of a run, it says which runs were made on a slow phase.
 */
export function machineSpeedMs(): number {
  const started = performance.now();
  let kept: string[] = [];
  for (let i = 0; i < 3_000_000; i += 1) {
    kept.push(JSON.stringify({ i, text: `abc${i}` }));
    if (kept.length > 1_000) kept = [];
  }
  return Math.round(performance.now() - started);
}
