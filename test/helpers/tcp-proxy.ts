/**
 * A small TCP proxy on a free loopback port, forwarding to a server (redis-server in the tests),
 * that can be told to cut a connection in the middle of a reply: `cutMidValue(minBytes)` arms it
 * so the first RESP bulk reply of at least `minBytes` (`$<length>\r\n…`) is forwarded only in
 * part, then both sockets are destroyed (the client sees a value cut short, then a closed socket).
 */
import * as net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Arms one cut: inside the next bulk reply of at least `minBytes`, after half of its value. */
  cutMidValue(minBytes: number): void;
  /** Connections cut so far, and the bytes of the cut value that went through. */
  readonly cuts: readonly { readonly valueBytes: number; readonly forwarded: number }[];
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let armed: number | null = null;
  const cuts: { valueBytes: number; forwarded: number }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (armed !== null) {
        const cut = cutPoint(chunk, armed);
        if (cut !== null) {
          armed = null;
          cuts.push({ valueBytes: cut.valueBytes, forwarded: cut.at - cut.valueStart });
          client.write(chunk.subarray(0, cut.at), () => end());
          return;
        }
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cutMidValue: (minBytes) => {
      armed = minBytes;
    },
    cuts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Where to cut `chunk`: half-way into the first bulk value of at least `minBytes` whose header it holds. */
function cutPoint(chunk: Buffer, minBytes: number): { at: number; valueStart: number; valueBytes: number } | null {
  const text = chunk.toString('latin1');
  const header = /\$(\d+)\r\n/g;
  for (let match = header.exec(text); match !== null; match = header.exec(text)) {
    const valueBytes = Number(match[1]);
    if (valueBytes < minBytes) continue;
    const valueStart = match.index + match[0].length;
    // Half the value, but never past what this chunk holds: the client always gets a value cut short.
    const at = Math.min(valueStart + Math.floor(valueBytes / 2), chunk.length - 1);
    return at > valueStart ? { at, valueStart, valueBytes } : null;
  }
  return null;
}
