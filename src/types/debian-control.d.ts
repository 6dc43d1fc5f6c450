// debian-control ships no type declarations; this covers the part deblayer uses.
declare module 'debian-control' {
  /** Field name -> value; folded/multi-line fields become arrays of trimmed lines. */
  export function parse(text: string): Record<string, string | string[]>;
  const debianControl: { parse: typeof parse };
  export default debianControl;
}
