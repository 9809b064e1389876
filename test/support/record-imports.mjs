// Preloaded with `node --import` (see cli-startup.test.ts): writes the URL of every module the
// program imports to the file named by $IMPORT_LOG, one per line.
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url, { data: { log: process.env.IMPORT_LOG } });
