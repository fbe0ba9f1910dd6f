// kinesalite and dynalite ship no types; these cover what the local stack uses.
declare module 'kinesalite' {
  import type { Server } from 'node:http';
  interface KinesaliteOptions {
    path?: string;
    createStreamMs?: number;
    deleteStreamMs?: number;
    updateStreamMs?: number;
    shardLimit?: number;
    ssl?: boolean;
  }
  function kinesalite(options?: KinesaliteOptions): Server;
  export = kinesalite;
}

declare module 'dynalite' {
  import type { Server } from 'node:http';
  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    ssl?: boolean;
  }
  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}

// Our patch's cache of stream descriptions (patches/kinesalite@3.3.3.patch), exported for its test.
declare module 'kinesalite/db' {
  type Callback = (error: Error | null, value?: unknown) => void;
  interface MetaDb {
    get(key: string, callback: Callback): void;
    put(key: string, value: unknown, callback: (error: Error | null) => void): void;
    del(key: string, callback: (error: Error | null) => void): void;
  }
  export function cacheStreamDescriptions(metaDb: MetaDb): void;
}
