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
