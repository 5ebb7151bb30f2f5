/** `--name value` options for the benchmark scripts. */
const argv = process.argv.slice(2);

export const args: readonly string[] = argv;

export function opt(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}
