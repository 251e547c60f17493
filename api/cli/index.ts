// `npm run cli -- <command>`: reads the stores of the site configured by the environment (see `help`).
import { runCli } from './run.js';

// `npm run cli -- history x | head` closes stdout early: stop quietly instead of failing with EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
