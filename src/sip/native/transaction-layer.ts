import type { Transaction } from "./transaction-user.js";

/**
 * The transaction tables: server transactions by §17.2.3 key, client transactions by §17.1.3 key.
 * Transactions remove themselves when they terminate (their TU's onTerminated calls `remove*`),
 * so the counts here are what leak tests assert on.
 */
export class TransactionLayer<S extends Transaction, C extends Transaction> {
  private readonly servers = new Map<string, S>();
  private readonly clients = new Map<string, C>();

  addServer(tx: S): void {
    this.servers.set(tx.key, tx);
  }
  findServer(key: string): S | undefined {
    return this.servers.get(key);
  }
  removeServer(tx: S): void {
    if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
  }
  addClient(tx: C): void {
    this.clients.set(tx.key, tx);
  }
  findClient(key: string): C | undefined {
    return this.clients.get(key);
  }
  removeClient(tx: C): void {
    if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
  }

  get serverCount(): number {
    return this.servers.size;
  }
  get clientCount(): number {
    return this.clients.size;
  }

  /** Terminates every transaction (shutdown). */
  terminateAll(): void {
    for (const tx of [...this.servers.values()]) tx.terminate();
    for (const tx of [...this.clients.values()]) tx.terminate();
    this.servers.clear();
    this.clients.clear();
  }
}
