import type { VerifyResult } from '../../index.js';
import { out } from '../output.js';

export function renderVerify(r: VerifyResult): string {
  const lines = [`${r.ok ? out.green('ok') : out.red.bold('MISMATCH')}  ${r.model} vs ${r.against}  ${out.dim(`(${r.rows} rows, rtol ${r.rtol}, atol ${r.atol})`)}`];
  for (const [method, m] of Object.entries(r.methods)) {
    lines.push(
      `  ${method.padEnd(18)} max abs ${m.max_abs_diff.toExponential(2)}  max rel ${m.max_rel_diff.toExponential(2)}  ${m.mismatches ? out.red(`${m.mismatches} mismatching rows (first: row ${m.first_mismatch})`) : out.green('0 mismatches')}`,
    );
  }
  return lines.join('\n');
}
