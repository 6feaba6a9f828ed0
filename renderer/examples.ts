/** The example graphs in examples/, bundled as text so the gallery opens them in one click. */
const files = import.meta.glob('../examples/*.nngraph', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

export interface Example {
  file: string;
  name: string;
  description: string;
  text: string;
}

export const EXAMPLES: Example[] = Object.entries(files)
  .map(([path, text]) => {
    const file = path.split('/').pop()!;
    let name = file;
    let description = '';
    try {
      const meta = (JSON.parse(text) as { metadata?: { name?: string; description?: string } }).metadata;
      name = meta?.name ?? file;
      description = meta?.description ?? '';
    } catch {
      // A broken example still shows up; opening it reports the problem.
    }
    return { file, name, description, text };
  })
  .sort((a, b) => a.file.localeCompare(b.file));
