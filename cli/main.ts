// worldctl's entry point: the only place that calls process.exit.
import { processIo } from './io.js';
import { run } from './program.js';

run(process.argv.slice(2), processIo).then((code) => process.exit(code));
