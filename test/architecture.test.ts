/**
 * The house rules (README, "Architecture"), checked from the imports of the sources: no import
 * circles between files or between rooms (engine's folders and loose files, the other top folders),
 * data flowing one way (CLI → facade → levels → store / pool → workers → shared → native bindings;
 * parts never import the facade), at most 8 loose files in engine/, no function over 150 lines,
 * an architecture section in the README that names every room of engine/, and a README.md opening
 * each room that names every file in it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { circles, engineRooms, longFunctions, looseEngineFiles, MAX_LOOSE_ENGINE_FILES, readImportGraph, relativeSpecifiers, roomGraph, undescribedRoomFiles, upwardImports } from './helpers/import-graph.js';

const ROOT = path.join(__dirname, '..', '..');
const graph = readImportGraph(ROOT);

describe('architecture', () => {
  it('reads every kind of relative import (so a circle cannot hide behind a require or a type import)', () => {
    const source = `import a from './a.js';\nimport type { B } from '../b.js';\nexport { c } from './c.js';\nconst d = require('./d.js');\ntype E = typeof import('./e.js');\nvoid import('./f.js');\nimport x from 'package';`;
    expect(relativeSpecifiers(source)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js']);
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('has read the whole project', () => {
    expect(graph.edges.size).toBeGreaterThan(150);
    expect(graph.edges.get('engine/engine.ts')?.length).toBeGreaterThan(10);
  });

  it('has no import circle between files', () => {
    expect(circles(graph.edges)).toEqual([]);
  });

  it('has no import circle between rooms', () => {
    expect(circles(roomGraph(graph))).toEqual([]);
  });

  it('imports one way: no part imports the facade; workers, shared and native-bindings never import engine', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it(`keeps at most ${MAX_LOOSE_ENGINE_FILES} loose files in engine/`, () => {
    expect(looseEngineFiles(ROOT).length).toBeLessThanOrEqual(MAX_LOOSE_ENGINE_FILES);
  });

  it('has no function over 150 lines in the code folders', () => {
    expect(longFunctions(ROOT)).toEqual([]);
  });

  it("describes every room of engine/ in the README's architecture section", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('## Architecture');
    expect(start).toBeGreaterThanOrEqual(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    for (const room of [...engineRooms(ROOT), ...looseEngineFiles(ROOT)]) expect(section).toContain(`${room}`);
  });

  it('opens every room of engine/ with a README.md that names each of its files', () => {
    expect(undescribedRoomFiles(ROOT)).toEqual([]);
  });
});
