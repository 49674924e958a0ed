import { DependencyGraph, type ReachedFile } from '../engine/graph/dependency-graph.js';

function byPath(reached: readonly ReachedFile[]): Record<string, number> {
  return Object.fromEntries(reached.map((r) => [r.path, r.depth]));
}

describe('DependencyGraph', () => {
  it('keeps reverse edges in step with forward edges as they are replaced', () => {
    const graph = new DependencyGraph();
    graph.setDependencies('a', ['b', 'c', 'b']);
    graph.setDependencies('d', ['b']);
    expect(graph.dependencies('a')).toEqual(['b', 'c']);
    expect(graph.dependents('b').sort()).toEqual(['a', 'd']);
    graph.setDependencies('a', ['c', 'e']);
    expect(graph.dependents('b')).toEqual(['d']);
    expect(graph.dependents('e')).toEqual(['a']);
    expect(graph.dependents('c')).toEqual(['a']);
  });

  it('drops a target nobody imports any more, but keeps files whose dependencies were set', () => {
    const graph = new DependencyGraph();
    graph.setDependencies('a', ['b', 'c']);
    graph.setDependencies('c', []);
    expect(graph.files().sort()).toEqual(['a', 'b', 'c']);
    graph.setDependencies('a', []);
    expect(graph.files().sort()).toEqual(['a', 'c']);
    expect(graph.has('b')).toBe(false);
  });

  it('walks dependents breadth-first with each file once at its shortest depth, through a cycle', () => {
    // leaf <- mid <- top <- leaf (a cycle), and side -> leaf
    const graph = new DependencyGraph();
    graph.setDependencies('mid', ['leaf']);
    graph.setDependencies('top', ['mid']);
    graph.setDependencies('leaf', ['top']);
    graph.setDependencies('side', ['leaf']);
    graph.setDependencies('outer', ['top', 'side']);
    const reached = graph.transitiveDependents('leaf');
    expect(byPath(reached)).toEqual({ mid: 1, side: 1, top: 2, outer: 2 });
    expect(reached.find((r) => r.path === 'top')?.via).toBe('mid');
    expect(reached.map((r) => r.depth)).toEqual([...reached.map((r) => r.depth)].sort((x, y) => x - y));
  });

  it('stops at the given depth', () => {
    const graph = new DependencyGraph();
    for (let i = 1; i < 10; i++) graph.setDependencies(`f${i}`, [`f${i - 1}`]);
    expect(byPath(graph.transitiveDependents('f0', 2))).toEqual({ f1: 1, f2: 2 });
    expect(byPath(graph.transitiveDependencies('f9', 3))).toEqual({ f8: 1, f7: 2, f6: 3 });
    expect(graph.transitiveDependents('f0', 0)).toEqual([]);
    expect(graph.transitiveDependents('f0')).toHaveLength(9);
  });

  it('excludes the start from a walk even when it sits on a cycle, and survives self-edges', () => {
    const graph = new DependencyGraph();
    graph.setDependencies('a', ['a', 'b']);
    graph.setDependencies('b', ['a']);
    expect(byPath(graph.transitiveDependents('a'))).toEqual({ b: 1 });
    expect(byPath(graph.transitiveDependencies('a'))).toEqual({ b: 1 });
  });

  it('removes a file with its edges both ways and returns the files that imported it', () => {
    const graph = new DependencyGraph();
    graph.setDependencies('a', ['b']);
    graph.setDependencies('c', ['b']);
    graph.setDependencies('b', ['d', 'b']);
    expect(graph.removeFile('b').sort()).toEqual(['a', 'c']);
    expect(graph.has('b')).toBe(false);
    expect(graph.has('d')).toBe(false); // only b imported it, and its own dependencies were never set
    expect(graph.dependencies('a')).toEqual([]);
    expect(graph.transitiveDependents('b')).toEqual([]);
    graph.setDependencies('b', []);
    graph.setDependencies('a', ['b']);
    expect(graph.dependents('b')).toEqual(['a']);
    expect(graph.removeFile('missing')).toEqual([]);
  });

  it('reuses the ids of removed files without mixing them up', () => {
    const graph = new DependencyGraph();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) graph.setDependencies(`r${round}-${i}`, i === 0 ? [] : [`r${round}-${i - 1}`]);
      expect(graph.transitiveDependents(`r${round}-0`)).toHaveLength(49);
      for (let i = 0; i < 50; i++) graph.removeFile(`r${round}-${i}`);
      expect(graph.size).toBe(0);
    }
  });
});
