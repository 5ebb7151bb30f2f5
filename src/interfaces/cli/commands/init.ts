import path from 'node:path';
import { writeInitConfig } from '../../../config/index.js';
import type { SourceKind } from '../../../sources/types.js';
import { shown, type Io } from '../output.js';

export interface InitCommandOptions {
  readonly config?: string;
  readonly kind?: SourceKind;
  readonly force?: boolean;
}

/** `steward init`: writes a commented steward.yml. */
export async function init(options: InitCommandOptions, io: Io): Promise<number> {
  const file = path.resolve(io.cwd, options.config ?? 'steward.yml');
  await writeInitConfig(file, { force: options.force ?? false, ...(options.kind ? { kind: options.kind } : {}) });
  io.stderr.write(
    `steward: wrote ${shown(path.relative(io.cwd, file) || file)}. Set the connection env vars it names, declare your purposes, then run \`npx steward audit\`.\n`,
  );
  return 0;
}
