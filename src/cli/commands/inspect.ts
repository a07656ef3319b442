import type { Command } from 'commander';
import { inspect } from '../../index.js';
import { progressReporter, toJSON, warn, writeStdout } from '../output.js';
import { renderInspect } from '../render/inspect.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show format, producer and versions, estimator tree, hyper-parameters, tensors and safety verdict')
    .argument('<file>', "model file ('-' reads stdin)")
    .option('--json', 'print one JSON document: file, size_bytes, sha256, format, container, producer, model, tensors, safety')
    .option('--tensors', 'list every tensor in the human view (always present in --json)')
    .action(async (file: string, opts: { json?: boolean; tensors?: boolean }) => {
      const onProgress = opts.json ? undefined : progressReporter(`reading ${file}`);
      const result = await inspect(file, onProgress ? { onProgress } : {});
      // Warnings are diagnostics (stderr); --json also keeps them in the document.
      for (const w of result.warnings ?? []) warn(`${file}: ${w}`);
      await writeStdout(opts.json ? toJSON(result) : renderInspect(result, Boolean(opts.tensors)));
    });
}
