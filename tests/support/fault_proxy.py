#!/usr/bin/env python3
"""A TCP proxy for fault-injection tests: forwards 127.0.0.1:<free port> to
127.0.0.1:<target port> and injects faults on signals.

Usage: fault_proxy.py TARGET_PORT
Prints its own port on stdout once it listens.
  SIGUSR1  drop: closes every open connection at once (both sides).
  SIGUSR2  blackhole: for BLACKHOLE_MS (default 1500) bytes in both
           directions vanish and new connections hang; then every connection
           is closed and forwarding resumes.
  SIGTERM  exits.
"""
import asyncio
import os
import signal
import sys

BLACKHOLE_S = int(os.environ.get("BLACKHOLE_MS", "1500")) / 1000.0


class Proxy:
    def __init__(self, target_port):
        self.target_port = target_port
        self.connections = set()  # (client_writer, server_writer)
        self.blackholed = False

    def drop_all(self):
        for pair in list(self.connections):
            for writer in pair:
                if writer is not None:
                    writer.transport.abort()
        self.connections.clear()

    async def blackhole(self):
        self.blackholed = True
        await asyncio.sleep(BLACKHOLE_S)
        self.drop_all()
        self.blackholed = False

    async def pump(self, reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if self.blackholed:
                    continue  # the bytes vanish
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    async def handle(self, client_reader, client_writer):
        pair = [client_writer, None]
        self.connections.add(tuple(pair))
        while self.blackholed:
            await asyncio.sleep(0.01)
        if tuple(pair) not in self.connections:
            return  # dropped while it hung
        self.connections.discard(tuple(pair))
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1",
                                                                         self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        pair = (client_writer, server_writer)
        self.connections.add(pair)
        await asyncio.gather(self.pump(client_reader, server_writer),
                             self.pump(server_reader, client_writer))
        self.connections.discard(pair)


async def main():
    proxy = Proxy(int(sys.argv[1]))
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.drop_all)
    loop.add_signal_handler(signal.SIGUSR2, lambda: loop.create_task(proxy.blackhole()))
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    print(server.sockets[0].getsockname()[1], flush=True)
    await stop


if __name__ == "__main__":
    asyncio.run(main())
