import type { Server } from 'node:net';

/** The IPv6 unspecified address: with `ipv6Only` off it takes IPv4 connections too (dual stack). */
export const ANY_ADDRESS = '::';
const IPV4_ANY_ADDRESS = '0.0.0.0';
/** What listening on `::` fails with on a host whose kernel has IPv6 turned off. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);

/**
 * Listens on `host`. `::` serves IPv6-only, dual-stack and (by falling back to 0.0.0.0) IPv4-only
 * hosts alike. Resolves with the address it listens on.
 */
export async function listen(server: Server, host: string, port: number): Promise<string> {
  try {
    await listenOnce(server, host, port);
    return host;
  } catch (error) {
    if (host !== ANY_ADDRESS || !NO_IPV6.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await listenOnce(server, IPV4_ANY_ADDRESS, port);
    return IPV4_ANY_ADDRESS;
  }
}

function listenOnce(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
