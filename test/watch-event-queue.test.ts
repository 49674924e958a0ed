import { EventQueue, coalesce, type WatchEvent } from '../engine/streams/event-queue.js';

function ev(event: WatchEvent['event'], path: string, revision: number): WatchEvent {
  return { event, path, invalidated: [path], revision, detectedAt: revision };
}

describe('EventQueue', () => {
  it('delivers events in order through poll()', () => {
    const queue = new EventQueue();
    queue.push(ev('add', 'a.ts', 1));
    queue.push(ev('change', 'b.ts', 2));
    expect(queue.poll()?.path).toBe('a.ts');
    expect(queue.poll()?.path).toBe('b.ts');
    expect(queue.poll()).toBeUndefined();
  });

  it('coalesces events for the same path, keeping the newest revision and its first place', () => {
    const queue = new EventQueue();
    queue.push(ev('change', 'a.ts', 1));
    queue.push(ev('change', 'b.ts', 2));
    queue.push(ev('change', 'a.ts', 3));
    expect(queue.size).toBe(2);
    expect(queue.poll()).toMatchObject({ event: 'change', path: 'a.ts', revision: 3 });
    expect(queue.poll()).toMatchObject({ path: 'b.ts', revision: 2 });
    expect(queue.stats().coalesced).toBe(1);
  });

  it('combines kinds so the final event matches the file system', () => {
    const kind = (a: WatchEvent['event'], b: WatchEvent['event']): string => coalesce(ev(a, 'x.ts', 1), ev(b, 'x.ts', 2)).event;
    expect(kind('add', 'change')).toBe('add');
    expect(kind('add', 'unlink')).toBe('unlink');
    expect(kind('unlink', 'add')).toBe('change');
    expect(kind('change', 'unlink')).toBe('unlink');
    expect(kind('change', 'change')).toBe('change');
    expect(kind('unlink', 'change')).toBe('change');
  });

  it('merges the invalidated lists of coalesced events', () => {
    const merged = coalesce({ ...ev('change', 'a.ts', 1), invalidated: ['a.ts', 'b.ts'] }, { ...ev('change', 'a.ts', 2), invalidated: ['a.ts', 'c.ts'] });
    expect([...merged.invalidated].sort()).toEqual(['a.ts', 'b.ts', 'c.ts']);
  });

  it('replaces its content by one resync past the bound and folds later events into it', () => {
    const queue = new EventQueue({ bound: 3 });
    for (let i = 0; i < 3; i++) queue.push(ev('change', `f${i}.ts`, i + 1));
    expect(queue.size).toBe(3);
    queue.push(ev('change', 'f3.ts', 4));
    expect(queue.size).toBe(1);
    queue.push(ev('change', 'f4.ts', 9));
    expect(queue.size).toBe(1);
    expect(queue.poll()).toMatchObject({ event: 'resync', revision: 9 });
    expect(queue.poll()).toBeUndefined();
    expect(queue.stats().resyncs).toBe(1);
    // After the resync is taken, the queue works normally again.
    queue.push(ev('add', 'g.ts', 10));
    expect(queue.poll()).toMatchObject({ event: 'add', path: 'g.ts' });
  });

  it('never holds more than its bound of distinct paths however many events arrive', () => {
    const queue = new EventQueue({ bound: 100 });
    let largest = 0;
    for (let i = 0; i < 100_000; i++) {
      queue.push(ev('change', `f${i % 5_000}.ts`, i));
      largest = Math.max(largest, queue.size);
    }
    expect(largest).toBeLessThanOrEqual(100);
  });

  it('hands an event straight to a waiting next()', async () => {
    const queue = new EventQueue();
    const pending = queue.next();
    queue.push(ev('add', 'a.ts', 1));
    await expect(pending).resolves.toEqual({ value: expect.objectContaining({ path: 'a.ts' }), done: false });
    expect(queue.size).toBe(0);
  });

  it('is an async iterator that ends when closed', async () => {
    const queue = new EventQueue();
    queue.push(ev('add', 'a.ts', 1));
    queue.push(ev('add', 'b.ts', 2));
    const seen: string[] = [];
    const loop = (async () => {
      for await (const event of queue) {
        seen.push(event.path);
        if (seen.length === 3) break;
      }
    })();
    await new Promise((resolve) => setImmediate(resolve));
    queue.push(ev('add', 'c.ts', 3));
    await loop;
    expect(seen).toEqual(['a.ts', 'b.ts', 'c.ts']);
    expect(queue.closed).toBe(true);
  });

  it('close() resolves every waiting next() as done and ignores later pushes', async () => {
    const queue = new EventQueue();
    const a = queue.next();
    const b = queue.next();
    queue.close();
    await expect(a).resolves.toEqual({ value: undefined, done: true });
    await expect(b).resolves.toEqual({ value: undefined, done: true });
    queue.push(ev('add', 'a.ts', 1));
    expect(queue.poll()).toBeUndefined();
  });

  it('rejects a bound that is not a positive integer', () => {
    expect(() => new EventQueue({ bound: 0 })).toThrow(RangeError);
  });
});
