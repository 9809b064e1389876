import { EventEmitter } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ANY_ADDRESS, listen } from '../../../src/server/listen.js';

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A server whose listen() fails like a kernel without IPv6 for `::`, and works for anything else. */
function serverWithoutIpv6(): { server: Server; hosts: string[] } {
  const hosts: string[] = [];
  const fake = new EventEmitter() as EventEmitter & { listen: (options: { host: string }, done: () => void) => void };
  fake.listen = ({ host }, done) => {
    hosts.push(host);
    if (host === ANY_ADDRESS) {
      const error = Object.assign(new Error(`listen EAFNOSUPPORT: address family not supported ${host}`), { code: 'EAFNOSUPPORT' });
      queueMicrotask(() => fake.emit('error', error));
    } else {
      queueMicrotask(done);
    }
  };
  return { server: fake as unknown as Server, hosts };
}

describe('listen', () => {
  it('on :: takes IPv4 and IPv6 connections where the host has both', async () => {
    const server = createServer((socket) => socket.end());
    const host = await listen(server, ANY_ADDRESS, 0);
    try {
      const { port } = server.address() as { port: number };
      expect(await connects('127.0.0.1', port)).toBe(true);
      // This machine has IPv6 unless listen had to fall back.
      if (host === ANY_ADDRESS) expect(await connects('::1', port)).toBe(true);
      else expect(host).toBe('0.0.0.0');
    } finally {
      server.close();
    }
  });

  it('falls back from :: to 0.0.0.0 on a host without IPv6', async () => {
    const { server, hosts } = serverWithoutIpv6();
    expect(await listen(server, ANY_ADDRESS, 9464)).toBe('0.0.0.0');
    expect(hosts).toEqual(['::', '0.0.0.0']);
  });

  it('falls back only from :: and only when IPv6 is missing', async () => {
    const { server } = serverWithoutIpv6();
    const failing = Object.assign(server, {
      listen: (_options: unknown, _done: () => void) => queueMicrotask(() => server.emit('error', Object.assign(new Error('in use'), { code: 'EADDRINUSE' }))),
    });
    await expect(listen(failing, ANY_ADDRESS, 9464)).rejects.toThrow('in use');
    await expect(listen(serverWithoutIpv6().server, '192.0.2.1', 9464)).resolves.toBe('192.0.2.1');
  });
});
