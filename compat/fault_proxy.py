"""A loopback TCP proxy between Kafka clients and Creek that injects faults: it drops
Produce responses and cuts the connection at random, so clients must retry requests the
broker may already have applied. Runs its own asyncio loop in a thread; stopped by stop()."""
import asyncio
import random
import struct
import threading


class FaultProxy:
    def __init__(self, listen_port, target_port, drop_rate=0.05, seed=7):
        self.listen_port = listen_port
        self.target_port = target_port
        self.drop_rate = drop_rate
        self.random = random.Random(seed)
        self.faults = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.ready = threading.Event()
        self.server = None
        self.enabled = True

    def start(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.listen_port))
        self.ready.set()
        self.loop.run_forever()

    async def _serve(self, client_reader, client_writer):
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        api_keys = {}

        async def read_frame(reader):
            header = await reader.readexactly(4)
            (length,) = struct.unpack(">i", header)
            return header + await reader.readexactly(length)

        async def upstream():
            while True:
                frame = await read_frame(client_reader)
                api_key, _, correlation = struct.unpack(">hhi", frame[4:12])
                api_keys[correlation] = api_key
                broker_writer.write(frame)
                await broker_writer.drain()

        async def downstream():
            while True:
                frame = await read_frame(broker_reader)
                (correlation,) = struct.unpack(">i", frame[4:8])
                if self.enabled and api_keys.pop(correlation, None) == 0 and self.random.random() < self.drop_rate:
                    self.faults += 1
                    raise ConnectionResetError("fault injected: Produce response dropped, connection cut")
                client_writer.write(frame)
                await client_writer.drain()

        tasks = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for writer in (client_writer, broker_writer):
            writer.close()
