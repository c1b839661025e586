// Prints the import graph of adloop's own code (folder -> folders it imports) and every cycle;
// exits 1 when there is one. ESLint keeps each folder's direction; this finds cycles.
//   npm run import-graph [-- --json]
import path from 'node:path';
import { cycles, importGraph } from './lib/import-graph.ts';

const root = path.resolve(import.meta.dirname, '..');
const graph = importGraph(root);
const fileCycles = cycles(graph.files);
const folderCycles = cycles(graph.folders);
if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify({
      files: graph.files.size,
      folders: Object.fromEntries([...graph.folders].map(([f, to]) => [f, [...to].sort()])),
      file_cycles: fileCycles,
      folder_cycles: folderCycles,
    }),
  );
} else {
  for (const [folder, to] of [...graph.folders].sort())
    console.log(`${folder.padEnd(11)} -> ${[...to].sort().join(', ') || '(nothing of adloop’s)'}`);
  console.log(
    `${graph.files.size} files; cycles between files: ${fileCycles.length}; between folders: ${folderCycles.length}`,
  );
  for (const c of [...fileCycles, ...folderCycles]) console.log(`  cycle: ${c.join(' <-> ')}`);
}
process.exitCode = fileCycles.length + folderCycles.length > 0 ? 1 : 0;
