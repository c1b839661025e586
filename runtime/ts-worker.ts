// Worker threads over TypeScript modules. A worker thread does not inherit the tsx loader its
// process runs under (`tsx script.ts`, `node --import tsx …`), so it registers tsx first, then
// imports the module (a module that is JavaScript already loads the same way).
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function tsWorker(module: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then(({ register }) => { register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
