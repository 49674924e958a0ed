/** How a module specifier appears in a file. The union is part of the public `deps` contract. */
export type ImportKind =
  | 'import' // import x from 'm' / import 'm'
  | 'export' // export * from 'm' / export { x } from 'm'
  | 'dynamic-import' // import('m')
  | 'require' // require('m')
  | 'import-equals' // import x = require('m')
  | 'import-type' // type T = import('m').T
  | 'reference'; // /// <reference path="m" /> or /// <reference types="m" />

/** One module reference found by the parser, before resolution. */
export interface ImportRecord {
  readonly specifier: string;
  readonly kind: ImportKind;
  /** True for `import type`, `export type`, `import type x = require()`, `import('m').T` and `/// <reference types>`. */
  readonly typeOnly: boolean;
}
