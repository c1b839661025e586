// `npm run bootstrap`: brings what only the system can (scripts/lib/system-deps.ts) without
// starting anything. npm start and npm test do the same on their own; this is for preparing a
// machine (an image, a CI runner) ahead of time, or seeing what is missing.
//   npm run bootstrap                  # everything npm start and npm test need
//   npm run bootstrap -- --for start   # only what npm start needs
//   npm run bootstrap -- --print       # only say what is missing and the command to install it
import { Command, Option } from 'commander';
import { ensureSystemDeps, SYSTEM_REQUIREMENTS, type Purpose } from './lib/system-deps.ts';

const opts = new Command()
  .name('npm run bootstrap --')
  .description(
    'Install the system packages adloop needs (libxgboost; PostgreSQL, the xgboost CLI and Chromium for the tests).',
  )
  .addOption(
    new Option('--for <what>', 'start, test or all')
      .choices(['start', 'test', 'all'])
      .default('all'),
  )
  .option('--print', 'only print what is missing and the command that installs it')
  .parse()
  .opts<{ for: Purpose | 'all'; print?: boolean }>();

const step = (msg: string) => console.log(`▸ ${msg}`);
const purposes: Purpose[] = opts.for === 'all' ? ['start', 'test'] : [opts.for];
const result = await ensureSystemDeps(purposes, step, opts.print ? { mode: 'print' } : {});
if (result.stillMissing.length === 0) {
  const wanted = SYSTEM_REQUIREMENTS.filter((r) => purposes.some((p) => r.for.includes(p)));
  step(`Everything is here: ${wanted.map((r) => r.id).join(', ')}`);
}
process.exit(result.stillMissing.length === 0 ? 0 : 1);
