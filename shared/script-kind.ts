/** The script kind a file is parsed as, from its extension. Part of every L2 key. */
export type ScriptKindName = 'ts' | 'tsx' | 'js' | 'jsx';

export function scriptKindName(path: string): ScriptKindName {
  const dot = path.lastIndexOf('.');
  const ext = dot === -1 ? '' : path.slice(dot + 1).toLowerCase();
  switch (ext) {
    case 'tsx':
      return 'tsx';
    case 'jsx':
      return 'jsx';
    case 'js':
    case 'mjs':
    case 'cjs':
      return 'js';
    default:
      return 'ts';
  }
}
