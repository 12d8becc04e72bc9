/** Types of ./entry.js (plain JavaScript so that the `segearth` entry needs no transpiling). */
export declare const CLI_SOURCE_DIRS: readonly string[];
export interface CliEntry {
  kind: 'compiled' | 'source';
  /** The file to import: dist/cli/index.js or src/cli/index.ts. */
  path: string;
  /** Why this one, in words (e.g. "src/geo changed after the build (run npm run build)"). */
  reason: string;
}
export declare function chooseEntry(root: string, env?: Record<string, string | undefined>): CliEntry;
