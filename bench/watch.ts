/**
 * Watch benchmark (issue 4, L4 streams), on a generated 10,000-file monorepo (bench/corpus.ts),
 * with the real watcher (chokidar) and a real engine (in-thread) as the invalidation target:
 *
 *   1. latency: --edits single-file edits, one at a time, each waited for; measured from chokidar's
 *      event to the subscriber holding the event (the goal: p99 under 20 ms), and from the write
 *      (writeFileSync returning) to the subscriber holding it;
 *   2. storm: --storm writes within a few seconds (every file rewritten once, a tenth of them twice in
 *      a row); peak RSS while it is absorbed, and that every file's final state is reflected: each
 *      written path got an event detected after its last write, and the engine's content of every
 *      file equals the bytes on disk afterwards (no stale answer).
 *
 * Run:   npx tsc -p tsconfig.json && node dist/bench/watch.js [--files 10000] [--edits 200] [--storm 10000]
 * Writes bench/results/watch.json. Needs Node >= 20.19 (chokidar 5 is loaded with require).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../engine/engine.js';
import { WatchService, type WatchEvent } from '../engine/streams/watch-service.js';
import { generateMonorepo } from './corpus.js';
import { numberFlag, percentile } from './stats.js';

const PROJECT = path.join(__dirname, '..', '..');
const RESULTS = path.join(PROJECT, 'bench', 'results');

const round = (n: number): number => Math.round(n * 100) / 100;

function listSourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), childRel);
      else if (/\.(ts|tsx|js)$/.test(entry.name)) out.push(childRel);
    }
  };
  walk(root, '');
  return out.sort();
}

async function main(): Promise<void> {
  const files = numberFlag('--files', 10_000);
  const edits = numberFlag('--edits', 200);
  const stormWrites = numberFlag('--storm', 10_000);
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-watch-bench-')));
  try {
    generateMonorepo(root, { files });
    const sources = listSourceFiles(root);
    const engine = createEngine({ root, executor: 'in-thread', persist: false });
    const startedAt = performance.now();
    const service = new WatchService(engine, { cacheDir: engine.options.cacheDir });
    // A large bound for the measuring subscriber (it must see every path), and a default-bound one
    // that falls behind on purpose during the storm (it is only drained at the end).
    const subscriber = service.subscribe({ bound: 50_000 });
    const lagging = service.subscribe();
    await service.ready();
    const readyMs = performance.now() - startedAt;
    console.log(`watching ${sources.length} source files (ready in ${Math.round(readyMs)} ms)`);

    // Delivery loop: records each event with the time the subscriber got it.
    const lastDelivered = new Map<string, { event: WatchEvent; deliveredAt: number }>();
    type Delivery = { event: WatchEvent; deliveredAt: number };
    const waiting: { current: { file: string; resolve: (d: Delivery) => void } | null } = { current: null };
    let delivered = 0;
    const loop = (async () => {
      for await (const event of subscriber) {
        const deliveredAt = performance.now();
        delivered++;
        lastDelivered.set(event.path, { event, deliveredAt });
        const w = waiting.current;
        if (w && event.path === w.file) {
          waiting.current = null;
          w.resolve({ event, deliveredAt });
        }
      }
    })();

    // 1. Latency.
    const fromEvent: number[] = [];
    const fromWrite: number[] = [];
    const step = Math.max(1, Math.floor(sources.length / edits));
    for (let i = 0; i < edits; i++) {
      const file = sources[(i * step) % sources.length]!;
      const got = new Promise<Delivery>((resolve) => (waiting.current = { file, resolve }));
      const absolute = path.join(root, file);
      fs.appendFileSync(absolute, `// edit ${i}\n`);
      const writtenAt = performance.now();
      const { event, deliveredAt } = await got;
      fromEvent.push(deliveredAt - event.detectedAt);
      fromWrite.push(deliveredAt - writtenAt);
      await new Promise((resolve) => setTimeout(resolve, 5)); // let the verify pass of the edit settle elsewhere
    }
    const latency = {
      edits,
      chokidarToSubscriberMs: { p50: round(percentile(fromEvent, 50)), p99: round(percentile(fromEvent, 99)), max: round(Math.max(...fromEvent)) },
      writeToSubscriberMs: { p50: round(percentile(fromWrite, 50)), p99: round(percentile(fromWrite, 99)), max: round(Math.max(...fromWrite)) },
    };
    console.log(`latency over ${edits} edits: chokidar → subscriber p50 ${latency.chokidarToSubscriberMs.p50} ms, p99 ${latency.chokidarToSubscriberMs.p99} ms; write → subscriber p50 ${latency.writeToSubscriberMs.p50} ms, p99 ${latency.writeToSubscriberMs.p99} ms`);

    // Let the latency phase's verify passes finish, and drain the lagging subscriber.
    await new Promise((resolve) => setTimeout(resolve, 500));
    while (lagging.poll()) {
      /* drain */
    }

    // 2. Storm. Every file's content is cached in L1 first, so a missed invalidation would show up
    // as a stale answer afterwards (reads also check fingerprints: trust but verify).
    for (const file of sources) await engine.content(file);
    let peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    const targets = Array.from({ length: stormWrites }, (_, i) => sources[i % sources.length]!);
    const lastWriteAt = new Map<string, number>();
    const stormStart = performance.now();
    for (let i = 0; i < targets.length; i++) {
      const file = targets[i]!;
      fs.writeFileSync(path.join(root, file), `export const storm${i} = ${i};\n// ${file}\n`);
      lastWriteAt.set(file, performance.now());
      if (i % 10 === 0) {
        fs.writeFileSync(path.join(root, file), `export const storm${i} = ${i}; // rewritten at once\n`);
        lastWriteAt.set(file, performance.now());
      }
      if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve)); // let events flow meanwhile
    }
    const writesMs = performance.now() - stormStart;
    const reflected = (): number => {
      let n = 0;
      for (const [file, writtenAt] of lastWriteAt) {
        const last = lastDelivered.get(file);
        if (last && last.event.detectedAt >= writtenAt) n++;
      }
      return n;
    };
    const deadline = performance.now() + 60_000;
    let count = reflected();
    while (count < lastWriteAt.size && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      count = reflected();
    }
    const settledMs = performance.now() - stormStart;
    // Quiet period, then check the engine's answers against the disk.
    await new Promise((resolve) => setTimeout(resolve, 500));
    clearInterval(sampler);
    let stale = 0;
    for (const file of lastWriteAt.keys()) {
      const disk = fs.readFileSync(path.join(root, file));
      const cached = await engine.content(file);
      if (!disk.equals(cached)) stale++;
    }
    let laggingEvents = 0;
    let laggingResyncs = 0;
    for (let e = lagging.poll(); e; e = lagging.poll()) {
      laggingEvents++;
      if (e.event === 'resync') laggingResyncs++;
    }
    const stats = service.stats();
    const storm = {
      writes: stormWrites + Math.ceil(stormWrites / 10),
      distinctFiles: lastWriteAt.size,
      writesMs: Math.round(writesMs),
      settledMs: Math.round(settledMs),
      reflected: count,
      allReflected: count === lastWriteAt.size,
      staleAnswersAfterwards: stale,
      rssBeforeMiB: round(rssBefore / 1024 / 1024),
      peakRssMiB: round(peakRss / 1024 / 1024),
      laggingSubscriber: { bound: lagging.queue.bound, eventsHeldAtEnd: laggingEvents, resyncs: laggingResyncs },
      watcher: stats,
    };
    console.log(
      `storm: ${storm.writes} writes to ${storm.distinctFiles} files in ${storm.writesMs} ms; all final states reflected: ${storm.allReflected} (${count}/${lastWriteAt.size}) after ${storm.settledMs} ms; ` +
        `stale answers afterwards: ${stale}; RSS ${storm.rssBeforeMiB} → peak ${storm.peakRssMiB} MiB; rescans ${stats.rescans} (${stats.rescanChanges} changes found); ` +
        `lagging subscriber (bound ${lagging.queue.bound}): ${laggingEvents} event(s) held, ${laggingResyncs} resync`,
    );

    subscriber.close();
    lagging.close();
    await loop;
    await service.close();
    await engine.close();
    fs.mkdirSync(RESULTS, { recursive: true });
    const out = path.join(RESULTS, 'watch.json');
    fs.writeFileSync(
      out,
      JSON.stringify({ schemaVersion: 1, date: new Date().toISOString(), node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, files: sources.length, readyMs: Math.round(readyMs), delivered, latency, storm }, null, 2) + '\n',
    );
    console.log(`wrote ${path.relative(PROJECT, out)}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
