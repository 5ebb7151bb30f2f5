#!/usr/bin/env node
import { main } from './cli.js';

// A reader that went away (`steward --help | head`): drop the rest of the output and let
// the command finish (a destructive job completes its batches rather than dying mid-run).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
