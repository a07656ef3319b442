import type { Command } from 'commander';
import { scan, scanExitCode, usage } from '../../index.js';
import { toJSON, writeStdout } from '../output.js';
import { renderScan } from '../render/scan.js';

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('decode without executing and flag unsafe globals; exit 5 if any file is unsafe, 3 if one cannot be decoded to its end, 2 if one cannot be read')
    .argument('<files...>', "model files ('-' reads stdin, once)")
    .option('--json', 'print one JSON document: {files: [{file, verdict, globals, findings: [{global, severity, offset}]}]}')
    .action(async (files: string[], opts: { json?: boolean }) => {
      if (files.filter((f) => f === '-').length > 1) throw usage('stdin (-) can be scanned only once');
      const result = await scan(files);
      await writeStdout(opts.json ? toJSON(result) : renderScan(result));
      process.exitCode = scanExitCode(result);
    });
}
