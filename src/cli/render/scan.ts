import type { ScanResult } from '../../index.js';
import { out } from '../output.js';

export function renderScan(r: ScanResult): string {
  const lines: string[] = [];
  for (const f of r.files) {
    const verdict = f.verdict === 'safe' ? out.green('safe  ') : f.findings.every((x) => x.severity === 'error') ? out.yellow('error ') : out.red.bold('UNSAFE');
    lines.push(`${verdict} ${f.file}${f.format ? out.dim(` (${f.format}, ${f.globals.length} globals)`) : ''}`);
    for (const x of f.findings) {
      const sev = x.severity === 'critical' ? out.red(x.severity) : out.yellow(x.severity);
      const where = [x.offset !== undefined ? `offset ${x.offset}` : '', x.location ?? ''].filter(Boolean).join(', ');
      lines.push(`       ${sev} ${x.global ?? x.message ?? ''}${where ? out.dim(` (${where})`) : ''}`);
    }
  }
  return lines.join('\n');
}
