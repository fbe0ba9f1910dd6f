// kinesalite ships no types; this covers what the tests use.
declare module 'kinesalite' {
  import type { Server } from 'node:http';
  function kinesalite(options?: { createStreamMs?: number; deleteStreamMs?: number; updateStreamMs?: number; shardLimit?: number }): Server;
  export = kinesalite;
}
