/**
 * Loads a handler module afresh with the given environment in place while its module scope (cold start) runs, so
 * configuration checks at cold start can be tested.
 */
export function loadWithEnv<T>(file: string, env: Record<string, string | undefined>): T {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(env);
  try {
    let loaded: T | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(file) as T;
    });
    return loaded as T;
  } finally {
    apply(saved);
  }
}
