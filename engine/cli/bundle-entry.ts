/**
 * The CLI bundle's entry (bundle-build.ts): what main.ts takes from the bundle. Nothing else loads
 * this module; without the bundle, main.ts requires cli.js itself.
 */
export { main } from './cli.js';
