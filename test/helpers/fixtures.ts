/** The path of a file in test/fixtures, from the compiled test (dist/test/) on Node and Bare alike. */
export function fixturePath (name: string): string {
  return decodeURIComponent(new URL(`../../../test/fixtures/${name}`, import.meta.url).pathname)
}
