// What the transactions need from the outside world, kept minimal so that the state machines
// know nothing of SIP parsing: bytes to (re)send, a status code, and a few callbacks.

/** A response as far as a client transaction cares: its status code. */
export interface ResponseLike {
  readonly status: number;
}

/** Where a transaction's bytes go. Bound to one destination (client) or one source (server). */
export interface TransactionChannel {
  /** TCP/TLS: no retransmissions, and the "wait for stragglers" timers are zero (§17). */
  readonly reliable: boolean;
  /** Sends bytes; `onError` is called (at most once, maybe later) if the transport fails. */
  send(data: Uint8Array, onError: (err: Error) => void): void;
}

/** The transaction user of a client transaction (the proxy core's branch). */
export interface ClientTransactionUser<R extends ResponseLike> {
  /** A response the TU must see: provisionals, the first final, and (INVITE) 2xx retransmissions. */
  onResponse(response: R): void;
  /** Timer B or F fired without a final response. */
  onTimeout(): void;
  /** The request could not be sent. */
  onTransportError(err: Error): void;
  /** The transaction reached Terminated; drop every reference to it. */
  onTerminated(): void;
}

/** The transaction user of a server transaction (the proxy core's response context). */
export interface ServerTransactionUser {
  /** Timer H fired (no ACK for a final non-2xx response), or a response could not be sent. */
  onTimeout?(): void;
  onTransportError?(err: Error): void;
  /** The transaction reached Terminated; drop every reference to it. */
  onTerminated(): void;
}

export interface Transaction {
  readonly key: string;
  readonly stateName: string;
  /** Stops every timer and moves to Terminated without sending anything (shutdown). */
  terminate(): void;
}
