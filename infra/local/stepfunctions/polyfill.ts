/**
 * aws-local-stepfunctions calls Promise.withResolvers (Node 22+) for every Task state; Node 20 lacks it.
 * Installed without a global type declaration so it cannot clash with other declarations in the project.
 */
type Resolvers = { promise: Promise<unknown>; resolve: (value: unknown) => void; reject: (reason: unknown) => void };
const promiseConstructor = Promise as unknown as { withResolvers?: () => Resolvers };

promiseConstructor.withResolvers ??= () => {
  let resolve!: Resolvers['resolve'];
  let reject!: Resolvers['reject'];
  const promise = new Promise<unknown>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
};
