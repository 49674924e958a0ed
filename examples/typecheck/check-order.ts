/**
 * The order strata-typecheck checks files in: the project's own module files grouped into strongly
 * connected components of their imports (Strata's dependency graph, `engine.deps()`), dependencies
 * before dependents, so every group's inputs can name its imports' shapes. Everything else in the
 * Program (lib and node_modules declarations, files outside the root, global scripts, JSON) is
 * "untracked": checked every run, and its text is part of every group's inputs (a global
 * declaration may change any file's types).
 */
import * as path from 'node:path';
import ts from 'typescript';
import type { Engine } from '../../engine/index.js';
import { createHash } from 'node:crypto';

export interface FileGroup {
  readonly files: ts.SourceFile[];
  /** Groups these files import (each listed once, none of them this group). */
  readonly dependencies: FileGroup[];
}

export interface CheckOrder {
  readonly groups: FileGroup[];
  readonly untracked: ts.SourceFile[];
  /** Digest of every untracked file's name and text. */
  readonly globalDigest: string;
}

/** A short collision-resistant digest (sha256) of text: inputs and shapes are compared by it. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

const SOURCE = /\.(?:[cm]?tsx?|[cm]?jsx?)$/;

export async function checkOrder(engine: Engine, program: ts.Program): Promise<CheckOrder> {
  const tracked = new Map<string, ts.SourceFile>();
  const untracked: ts.SourceFile[] = [];
  for (const sourceFile of program.getSourceFiles()) {
    const relative = path.relative(engine.root, sourceFile.fileName);
    const inProject = !relative.startsWith('..') && !path.isAbsolute(relative) && !relative.split(path.sep).includes('node_modules');
    if (inProject && SOURCE.test(sourceFile.fileName) && ts.isExternalModule(sourceFile)) tracked.set(path.resolve(sourceFile.fileName), sourceFile);
    else untracked.push(sourceFile);
  }
  const edges = new Map<ts.SourceFile, ts.SourceFile[]>();
  for (const [file, sourceFile] of tracked) {
    const { dependencies } = await engine.deps(file);
    const targets = new Set<ts.SourceFile>();
    for (const dependency of dependencies) {
      const target = dependency.resolved === null ? undefined : tracked.get(path.resolve(engine.root, dependency.resolved));
      if (target !== undefined && target !== sourceFile) targets.add(target);
    }
    edges.set(sourceFile, [...targets]);
  }
  const globalDigest = digest(untracked.map((sf) => `${sf.fileName}\0${sf.text}`).join('\0'));
  return { groups: stronglyConnected([...tracked.values()], edges), untracked, globalDigest };
}

/** Tarjan's algorithm (iterative): components come out dependencies first. */
function stronglyConnected(nodes: readonly ts.SourceFile[], edges: ReadonlyMap<ts.SourceFile, readonly ts.SourceFile[]>): FileGroup[] {
  const index = new Map<ts.SourceFile, number>();
  const low = new Map<ts.SourceFile, number>();
  const onStack = new Set<ts.SourceFile>();
  const stack: ts.SourceFile[] = [];
  const groupOf = new Map<ts.SourceFile, FileGroup>();
  const groups: FileGroup[] = [];
  let counter = 0;
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: Array<{ node: ts.SourceFile; next: number }> = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: ts.SourceFile; next: number };
      const targets = edges.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++] as ts.SourceFile;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(target) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const files: ts.SourceFile[] = [];
      let member: ts.SourceFile;
      do {
        member = stack.pop() as ts.SourceFile;
        onStack.delete(member);
        files.push(member);
      } while (member !== frame.node);
      files.sort((a, b) => (a.fileName < b.fileName ? -1 : 1));
      const group: FileGroup = { files, dependencies: [] };
      for (const file of files) groupOf.set(file, group);
      groups.push(group);
    }
  }
  const order = new Map(groups.map((group, position) => [group, position]));
  for (const group of groups) {
    const dependencies = new Set<FileGroup>();
    for (const file of group.files) for (const target of edges.get(file) ?? []) {
      const dependency = groupOf.get(target);
      if (dependency !== undefined && dependency !== group) dependencies.add(dependency);
    }
    group.dependencies.push(...[...dependencies].sort((a, b) => (order.get(a) as number) - (order.get(b) as number)));
  }
  return groups;
}
