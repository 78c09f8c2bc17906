# A backend for the proxy benchmark: answers every request with 200 and its name, one
# request per connection; listens with a backlog of 1024 (a small backlog overflows when
# the VM stalls, and a retransmitted SYN costs a second).
#   python3 backend.py NAME ADDRESS PORT
import asyncio
import sys

name, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = name.encode()
reply = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n"
    b"connection: close\r\n\r\n%s" % (len(body), body)
)


async def serve(reader, writer):
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.write(reply)
        await writer.drain()
    except Exception:
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(serve, host, port, backlog=1024, reuse_address=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
