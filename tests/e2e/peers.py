#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Peers that misbehave the way t_session needs: clients that half-close,
pipeline without reading, or never read; an upstream that answers every
request head with bytes of its choosing.  Loopback only, every wait
bounded.

  peers.py halfclose PORT [SECS] <request
      Send the request, shut the write side, read until the proxy closes
      (at most SECS, default 10).  Prints what came, as received.

  peers.py exchange PORT [SECS] <bytes
      Send the bytes, read until the proxy closes (at most SECS, default
      5).  Prints what came, as received.

  peers.py flood PORT SECS <request
      Send the request over and over for SECS without reading a byte of
      the answers.  Prints how many were sent.

  peers.py noread PORT SECS <request
      Send the request, read nothing for SECS, then see whether the proxy
      has closed: prints "closed" or "open".

  peers.py serve PORT FILE [PAUSE]
      An upstream: every request head on every connection is answered
      with the bytes of FILE; with PAUSE (seconds), the bytes after the
      first blank line of FILE follow that much later, in a write of
      their own.  Connections stay open, unless FILE's head says
      "Connection: close".  Logs "request N HEAD" per head, and "recv
      BYTES" per read, as Python bytes literals.
"""
import os
import select
import socket
import sys
import threading
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_close(s, secs):
    deadline = time.monotonic() + secs
    got = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        got += chunk
    return got


def cmd_halfclose(args):
    port = int(args[0])
    secs = float(args[1]) if len(args) > 1 else 10.0
    s = connect(port)
    s.sendall(sys.stdin.buffer.read())
    s.shutdown(socket.SHUT_WR)
    sys.stdout.buffer.write(read_until_close(s, secs))
    s.close()


def cmd_exchange(args):
    port = int(args[0])
    secs = float(args[1]) if len(args) > 1 else 5.0
    s = connect(port)
    s.sendall(sys.stdin.buffer.read())
    sys.stdout.buffer.write(read_until_close(s, secs))
    s.close()


def cmd_flood(args):
    port, secs = int(args[0]), float(args[1])
    req = sys.stdin.buffer.read()
    batch = req * 64
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        _, w, _ = select.select([], [s], [], 0.05)
        if not w:
            continue
        try:
            n = s.send(batch)
        except BlockingIOError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            break
        sent += n
    print(sent // len(req))
    s.close()


def cmd_noread(args):
    port, secs = int(args[0]), float(args[1])
    s = connect(port)
    s.sendall(sys.stdin.buffer.read())
    time.sleep(secs)
    # drain what the kernel holds: a proxy that gave up has closed
    s.setblocking(False)
    state = "open"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        try:
            chunk = s.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            state = "closed"
            break
        except BlockingIOError:
            continue
        if not chunk:
            state = "closed"
            break
    print(state)
    s.close()


def serve_conn(c, reply, pause, counter):
    buf = b""
    head, sep, rest = reply.partition(b"\r\n\r\n")
    try:
        while True:
            r, _, _ = select.select([c], [], [], 60)
            if not r:
                break
            chunk = c.recv(65536)
            if not chunk:
                break
            print("recv %r" % chunk, flush=True)
            buf += chunk
            while b"\r\n\r\n" in buf:
                got, _, buf = buf.partition(b"\r\n\r\n")
                counter[0] += 1
                print("request %d %r" % (counter[0], got), flush=True)
                if pause > 0:
                    c.sendall(head + sep)
                    time.sleep(pause)
                    c.sendall(rest)
                else:
                    c.sendall(reply)
                if b"\r\nconnection: close\r\n" in head.lower() + b"\r\n":
                    c.shutdown(socket.SHUT_WR)
                    c.close()
                    return
    except OSError:
        pass
    c.close()


def cmd_serve(args):
    port, path = int(args[0]), args[1]
    pause = float(args[2]) if len(args) > 2 else 0.0
    with open(path, "rb") as f:
        reply = f.read()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    print("serving %s on %d" % (os.path.basename(path), port), flush=True)
    counter = [0]
    for _ in range(1000):
        c, _ = ls.accept()
        threading.Thread(target=serve_conn, args=(c, reply, pause, counter),
                         daemon=True).start()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    args = sys.argv[2:]
    cmds = {"halfclose": cmd_halfclose, "exchange": cmd_exchange,
            "flood": cmd_flood, "noread": cmd_noread, "serve": cmd_serve}
    if cmd not in cmds:
        sys.exit(__doc__)
    cmds[cmd](args)


if __name__ == "__main__":
    main()
