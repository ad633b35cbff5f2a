/** asl-validator ships no type declarations; this is the part the tests use. */
declare module 'asl-validator' {
  const validator: (definition: unknown, opts?: unknown) => { isValid: boolean; errors: unknown[] };
  export default validator;
}
