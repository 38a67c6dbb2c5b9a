"""Produces the fixture records with aiokafka and exits."""
import asyncio
import sys
from aiokafka import AIOKafkaProducer


async def main():
    producer = AIOKafkaProducer(bootstrap_servers=sys.argv[1], client_id="fixture-aiokafka",
                                linger_ms=200, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send("fixtures", key=b"key-1", value=b"value-1", partition=0,
                                headers=[("h1", b"v1"), ("h2", b"")], timestamp_ms=1700000000001),
            await producer.send("fixtures", key=None, value=b"value-2", partition=0,
                                timestamp_ms=1700000000002),
            await producer.send("fixtures", key=b"", value=b"", partition=0,
                                headers=[("trace", b"\x00\x01")], timestamp_ms=1700000000003),
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()

asyncio.run(main())
