/** Engines for tests: isolated from the environment and config files, and closed after each test. */
import { createEngine, type Engine, type EngineOptions } from '../../engine/engine.js';

/** Option sources that read neither the environment nor a config file. */
export const isolated = { env: {}, readConfigFile: false } as const;

/** The engines a test opens, isolated; `closeAll` (in `afterEach`) closes them. */
export class OpenEngines {
  readonly #engines: Engine[] = [];

  open(options: EngineOptions): Engine {
    return this.add(createEngine(options, isolated));
  }

  /** Closes `engine` with the others, after those added before it. */
  add(engine: Engine): Engine {
    this.#engines.push(engine);
    return engine;
  }

  async closeAll(): Promise<void> {
    for (const engine of this.#engines.splice(0)) await engine.close();
  }
}
