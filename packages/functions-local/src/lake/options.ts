/** What the Data Lake stand-in (server.ts) takes and hands back. */

export interface LakeServerOptions {
  /** Directory holding the lake's data; created when missing. */
  readonly root: string;
  /** 0 or absent: a free port. */
  readonly port?: number;
  /** Account name in the URLs this server prints; any account in a request path is served. */
  readonly account?: string;
}

export interface LakeServerHandle {
  /** Account URL to give the Data Lake clients, e.g. `http://127.0.0.1:port/devstoreaccount1`. */
  readonly url: string;
  readonly port: number;
  readonly root: string;
  stop(): Promise<void>;
}
