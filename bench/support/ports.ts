// Free loopback ports for the benchmarks, from the OS (bind to port 0, then close). The test
// suite takes its ports from below the ephemeral range (test/support/free-port.ts), so a bench
// running beside the tests never picks one of theirs.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

const HOST = "127.0.0.1";

export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}

/** A port free for both TCP and UDP (a SIP contact with `transport=udp,tcp` binds both). */
export async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeTcpPort();
    if (await udpPortFree(port)) return port;
  }
  throw new Error("no loopback port free for both TCP and UDP");
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => resolve(false));
    socket.bind(port, HOST, () => socket.close(() => resolve(true)));
  });
}
