/** Every file the generator yields for `input`, and its summary: for tests that inspect the tables in memory. */
import { type GeneratedFile, type GenerationStats, type GeneratorInput, generateRawFiles } from '../../data-lake/generator/index.js';

export async function generate(input: GeneratorInput): Promise<{ files: GeneratedFile[]; stats: GenerationStats }> {
  const files: GeneratedFile[] = [];
  const gen = generateRawFiles(input);
  for (;;) {
    const next = await gen.next();
    if (next.done) return { files, stats: next.value };
    files.push(next.value);
  }
}
