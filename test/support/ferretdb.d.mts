export interface FerretDb {
  readonly port: number;
  readonly dataDir: string;
  /** Base URI without a database name. */
  readonly uri: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}
export function ferretDbBinary(): string;
export function freePort(): Promise<number>;
export function startFerretDb(dataDir: string, port?: number): Promise<FerretDb>;
