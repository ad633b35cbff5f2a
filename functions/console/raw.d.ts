/** A file imported as its text (`?raw` for Vite, `with { type: 'text' }` for esbuild): the console's htmx. */
declare module '*?raw' {
  const text: string;
  export default text;
}
