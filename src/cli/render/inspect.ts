import type { InspectResult, ModelSummary, TensorInfo } from '../../index.js';
import { formatBytes, out } from '../output.js';

function line(label: string, value: string): string {
  return `${out.bold(label.padEnd(10))} ${value}`;
}

function modelTree(m: ModelSummary, prefix: string, lines: string[], isLast: boolean, top: boolean): void {
  const branch = top ? '' : isLast ? '└─ ' : '├─ ';
  const name = m.name ? `${out.cyan(m.name)}  ` : '';
  const kind = m.kind !== 'unknown' ? out.dim(` [${m.kind}]`) : '';
  const classes = m.classes && m.classes.length ? out.dim(`  classes: ${m.classes.slice(0, 10).map(String).join(', ')}${m.classes.length > 10 ? ', …' : ''}`) : '';
  lines.push(`${prefix}${branch}${name}${m.class}${kind}${classes}`);
  const children = m.steps ?? [];
  const childPrefix = top ? prefix : prefix + (isLast ? '   ' : '│  ');
  children.forEach((c, i) => modelTree(c, childPrefix, lines, i === children.length - 1, false));
}

function tensorLines(tensors: TensorInfo[]): string[] {
  const width = Math.min(60, Math.max(...tensors.map((t) => t.name.length)));
  return tensors.map((t) => `  ${t.name.padEnd(width)}  ${t.dtype.padEnd(8)} ${JSON.stringify(t.shape).padEnd(14)} ${formatBytes(t.bytes)}`);
}

export function renderInspect(r: InspectResult, showTensors: boolean): string {
  const lines: string[] = [];
  const c = r.container;
  const containerBits: string[] = [r.format];
  if (typeof c['compression'] === 'string') containerBits.push(c['compression']);
  if (typeof c['protocol'] === 'number') containerBits.push(`protocol ${c['protocol']}`);
  if (typeof c['layout'] === 'string') containerBits.push(c['layout']);
  if (typeof c['ir_version'] === 'number') containerBits.push(`IR ${c['ir_version']}`);
  lines.push(`${out.bold(r.file)}  ${out.dim(`(${containerBits.join(', ')}, ${formatBytes(r.size_bytes)})`)}`);
  lines.push(line('sha256', r.sha256));
  if (r.producer) {
    const p = r.producer;
    const extras = Object.entries(p)
      .filter(([k, v]) => k !== 'library' && k !== 'version' && k !== 'metadata' && (typeof v === 'string' || typeof v === 'number'))
      .map(([k, v]) => `${k} ${v}`);
    lines.push(line('producer', `${p.library ?? 'unknown'}${p.version ? ` ${p.version}` : ''}${extras.length ? out.dim(` (${extras.join(', ')})`) : ''}`));
  }
  if (r.model) {
    const m = r.model;
    const tree: string[] = [];
    modelTree(m, '', tree, true, true);
    lines.push(line('model', tree[0]!));
    for (const t of tree.slice(1)) lines.push(`${' '.repeat(11)}${t}`);
    if (m.params && Object.keys(m.params).length) {
      const params = Object.entries(m.params)
        .filter(([k]) => k !== 'steps' && k !== 'transformers' && k !== 'transformer_list' && k !== 'estimators')
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      if (params.length) lines.push(line('params', params.join(', ')));
    }
    if (m.n_features_in !== undefined && m.n_features_in !== null) {
      const names = m.feature_names ? `: ${m.feature_names.slice(0, 8).join(', ')}${m.feature_names.length > 8 ? ', …' : ''}` : '';
      lines.push(line('inputs', `${m.n_features_in} features${names}`));
    }
    type Port = { name: string; dtype?: string | null; shape?: unknown; type?: string | null; is_initializer?: boolean };
    const extra = m as { inputs?: Port[]; outputs?: Port[]; layers?: Array<{ name: string; class?: string }>; keys?: unknown[]; ops?: Record<string, number>; n_params?: number };
    const port = (p: Port): string =>
      p.dtype ? `${p.name} ${p.dtype} ${JSON.stringify(p.shape ?? null)}` : `${p.name}${p.type ? ` ${p.type}` : ''}`;
    if (Array.isArray(extra.layers) && extra.layers.length) {
      const counts = new Map<string, number>();
      for (const l of extra.layers) counts.set(l.class ?? '?', (counts.get(l.class ?? '?') ?? 0) + 1);
      lines.push(line('layers', `${extra.layers.length}: ${[...counts].map(([c, n]) => (n > 1 ? `${c} ×${n}` : c)).join(', ')}`));
    }
    if (extra.ops && Object.keys(extra.ops).length) {
      const ops = Object.entries(extra.ops).sort((a, b) => b[1] - a[1]);
      lines.push(line('ops', `${ops.slice(0, 8).map(([o, n]) => `${o} ×${n}`).join(', ')}${ops.length > 8 ? ', …' : ''}`));
    }
    if (Array.isArray(extra.keys) && extra.keys.length) lines.push(line('keys', extra.keys.slice(0, 12).map(String).join(', ') + (extra.keys.length > 12 ? ', …' : '')));
    if (typeof extra.n_params === 'number') lines.push(line('params #', extra.n_params.toLocaleString('en-US')));
    if (Array.isArray(extra.inputs)) for (const i of extra.inputs.filter((x) => !x.is_initializer)) lines.push(line('input', port(i)));
    if (Array.isArray(extra.outputs)) for (const o of extra.outputs) lines.push(line('output', port(o)));
  }
  const total = r.tensors.reduce((a, t) => a + t.bytes, 0);
  lines.push(line('tensors', `${r.tensors.length} arrays, ${formatBytes(total)}${showTensors || r.tensors.length === 0 ? '' : out.dim('  (--tensors to list them)')}`));
  if (showTensors && r.tensors.length) lines.push(...tensorLines(r.tensors));
  if (r.safety) {
    const s = r.safety;
    const verdict = s.verdict === 'safe' ? out.green('safe') : out.red.bold('UNSAFE');
    lines.push(line('safety', `${verdict} ${out.dim(`(${s.globals.length} globals)`)}`));
    for (const f of s.findings) {
      lines.push(`           ${f.severity === 'critical' ? out.red(f.severity) : out.yellow(f.severity)} ${f.global ?? ''}${f.offset !== undefined ? out.dim(` @${f.offset}`) : ''}${f.message && !f.global ? ` ${f.message}` : ''}`);
    }
  }
  return lines.join('\n');
}
