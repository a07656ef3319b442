/** What `convert --to` writes (CLI.md); its own module so the CLI can list it without loading the converters. */
export const TARGETS = ['onnx', 'mlpack', 'joblib', 'pickle', 'safetensors'] as const;
export type Target = (typeof TARGETS)[number];
