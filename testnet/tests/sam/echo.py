"""A stream echo and a datagram round trip between two SAM bridges of a testnet, driven
by the unmodified `i2psam` package from PyPI.

    python3 echo.py <sam port of the server's router> <sam port of the client's router>

Exits 0 and prints what it measured when both worked; raises otherwise. i2psam's own
datagram helper cannot forward (it types HOST as an integer), so the datagram sessions are
created with its `Connection.request` and `SessionCreate` command, and datagrams go out and
come in through its `Datagram` sender and `SAMDatagramProtocol` receiver.
"""

import asyncio
import os
import sys
import time
from types import SimpleNamespace

from i2psam import SAMClient, SAMConfig, commands
from i2psam.client.datagram import Datagram, SAMDatagramProtocol
from i2psam.types import SessionStyle

STREAM_BYTES = int(os.environ.get("ECHO_BYTES", 256 * 1024))
TIMEOUT = float(os.environ.get("ECHO_TIMEOUT", 300))


def client(port: int) -> SAMClient:
    # Only port=: i2psam's host validation trips on what it would be given.
    return SAMClient(SAMConfig(port=port, udp_port=port))


async def my_destination(session) -> str:
    reply = await session.conn.naming_lookup("ME")
    assert reply.is_ok and reply.value, f"NAMING LOOKUP ME: {reply}"
    return reply.value


async def stream_echo(server_port: int, client_port: int) -> float:
    server, user = client(server_port), client(client_port)
    async with server.session("echo-server", "TRANSIENT") as srv, user.session(
        "echo-client", "TRANSIENT"
    ) as cli:
        target = await my_destination(srv)
        payload = os.urandom(STREAM_BYTES)

        async def echo_one():
            async with srv.accept_stream() as (peer, conn):
                assert peer, "the peer's destination comes first"
                while data := await conn.reader.read(65536):
                    conn.writer.write(data)
                    await conn.writer.drain()

        echo = asyncio.create_task(echo_one())
        started = time.monotonic()
        async with cli.connect_stream(target) as conn:
            async def send():
                conn.writer.write(payload)
                await conn.writer.drain()

            sender = asyncio.create_task(send())
            back = await conn.reader.readexactly(len(payload))
            await sender
        took = time.monotonic() - started
        assert back == payload, "the echo differs from what was sent"
        echo.cancel()
        return took


async def datagram_session(sam: SAMClient, name: str):
    """A DATAGRAM session whose datagrams are forwarded to a local UDP port."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    receiver, _ = await loop.create_datagram_endpoint(
        lambda: SAMDatagramProtocol.with_q(queue), local_addr=("127.0.0.1", 0)
    )
    port = receiver.get_extra_info("sockname")[1]
    conn_cm = sam.connection()
    conn = await conn_cm.__aenter__()
    line = (
        f"SESSION CREATE STYLE=DATAGRAM ID={name} DESTINATION=TRANSIENT "
        f"SIGNATURE_TYPE=7 PORT={port} HOST=127.0.0.1"
    )
    reply = await conn.raw_request(line)
    assert "RESULT=OK" in reply, f"{line}: {reply}"
    sender, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=("127.0.0.1", sam.cfg.udp_port)
    )
    me = await conn.naming_lookup("ME")
    datagrams = Datagram(session=SimpleNamespace(session_id=name), queue=queue, send_transport=sender)
    return conn_cm, datagrams, receiver, sender, me.value


async def datagram_round_trip(server_port: int, client_port: int) -> float:
    a = await datagram_session(client(server_port), "dg-server")
    b = await datagram_session(client(client_port), "dg-client")
    try:
        (_, a_dgrams, _, _, a_dest), (_, b_dgrams, _, _, b_dest) = a, b
        started = time.monotonic()
        # UDP: send again until one arrives (the first may race the LeaseSet lookup).
        for _ in range(30):
            b_dgrams.sendto(a_dest, b"ping")
            try:
                sender, data = await asyncio.wait_for(a_dgrams.recv(), 5)
                break
            except asyncio.TimeoutError:
                continue
        else:
            raise AssertionError("no datagram arrived at the server")
        assert data == b"ping" and sender == b_dest, (sender[:20], data)
        a_dgrams.sendto(sender, b"pong")
        sender, data = await asyncio.wait_for(b_dgrams.recv(), 60)
        assert data == b"pong" and sender == a_dest, (sender[:20], data)
        return time.monotonic() - started
    finally:
        for conn_cm, _, receiver, sender, _ in (a, b):
            receiver.close()
            sender.close()
            await conn_cm.__aexit__(None, None, None)


async def main():
    server_port, client_port = int(sys.argv[1]), int(sys.argv[2])
    took = await asyncio.wait_for(stream_echo(server_port, client_port), TIMEOUT)
    print(f"stream echo of {STREAM_BYTES} bytes: {took:.2f} s")
    took = await asyncio.wait_for(datagram_round_trip(server_port, client_port), TIMEOUT)
    print(f"datagram round trip: {took:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
