#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Raw HTTP/1.1 over loopback sockets for the end-to-end tests: what curl
will not send, and upstreams that misbehave on purpose.

  rawhttp.py send PORT [-t SECS] [-d SECS] [-e] [-o FILE] <request
      Send stdin as is (-d: one byte every SECS, slowloris style) without
      closing the write side, read one response (waiting -t SECS at most,
      default 5), then wait up to -w SECS (default 1) for the proxy to
      close.  Prints "STATUS FLAGS STATE":
      STATUS 000 when no response came, FLAGS the x-meshkit-flags value or
      "-", STATE "closed" or "open"; -e adds the seconds until the response
      (or the close) and until the end.  -o writes the raw bytes received to FILE.

  rawhttp.py stall PORT SECS <request
      Send the request, read nothing for SECS, then read for a moment and
      print how many bytes came (at most 1 MB), and close.

  rawhttp.py serve PORT MODE
      An upstream on 127.0.0.1:PORT.  MODE close: read a request head, then
      close without a word.  garbage: answer a request with an invalid
      status line.  reply:FILE: answer each request head with the bytes
      of FILE, then close.  hold:FILE: the same, but keep the connection
      open (and silent) for a minute.  sink: accept and never read.  blackhole: a listener
      whose accept queue is full, so that new connections never complete.

  rawhttp.py desync PORT HOST FILE...
      Send every Severe case of the http-desync-guardian YAML files, with
      a Host header added when the case has none, and print "ok NAME" when
      the answer is 400 and the connection is closed, "FAIL NAME: ..."
      otherwise.  Ends with "severe N refused M".
"""
import select
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, deadline, raw):
    """One response: (status, flags), or ("000", "-") and the state."""
    buf = b""
    closed = False
    while b"\r\n\r\n" not in buf:
        chunk = recv(s, deadline)
        if chunk is None:
            return "000", "-", buf, False
        if chunk == b"":
            return "000", "-", buf, True
        buf += chunk
        raw.append(chunk)
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    status = parts[1].decode("latin-1") if len(parts) > 1 else "???"
    flags = "-"
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"x-meshkit-flags":
            flags = value.strip().decode("latin-1")
        elif name == b"content-length":
            length = int(value.strip())
    body = rest
    while length is not None and len(body) < length:
        chunk = recv(s, deadline)
        if chunk is None:
            break
        if chunk == b"":
            closed = True
            break
        body += chunk
        raw.append(chunk)
    return status, flags, body, closed


def recv(s, deadline):
    """Bytes, b"" on close or reset, None when the deadline passes."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    r, _, _ = select.select([s], [], [], left)
    if not r:
        return None
    try:
        return s.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return b""


def wait_close(s, deadline, raw):
    while True:
        chunk = recv(s, deadline)
        if chunk is None:
            return False
        if chunk == b"":
            return True
        raw.append(chunk)


def exchange(port, data, timeout, drip=0.0, linger=1.0):
    s = connect(port)
    raw = []
    start = time.monotonic()
    deadline = start + timeout
    try:
        if drip > 0:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                r, _, _ = select.select([s], [], [], drip)
                if r:
                    break
        else:
            s.sendall(data)
    except (ConnectionResetError, BrokenPipeError):
        pass
    status, flags, body, closed = read_response(s, deadline, raw)
    elapsed = time.monotonic() - start
    if not closed and status != "000":
        closed = wait_close(s, time.monotonic() + linger, raw)
    s.close()
    return status, flags, closed, (elapsed, time.monotonic() - start), \
        b"".join(raw)


def cmd_send(args):
    port = int(args.pop(0))
    timeout, linger, drip, show_time, out = 5.0, 1.0, 0.0, False, None
    while args:
        a = args.pop(0)
        if a == "-t":
            timeout = float(args.pop(0))
        elif a == "-w":
            linger = float(args.pop(0))
        elif a == "-d":
            drip = float(args.pop(0))
        elif a == "-e":
            show_time = True
        elif a == "-o":
            out = args.pop(0)
        else:
            sys.exit("rawhttp: unknown option " + a)
    data = sys.stdin.buffer.read()
    status, flags, closed, elapsed, raw = exchange(port, data, timeout, drip,
                                                 linger)
    if out:
        with open(out, "wb") as f:
            f.write(raw)
    line = "%s %s %s" % (status, flags, "closed" if closed else "open")
    if show_time:
        line += " %.2f %.2f" % elapsed
    print(line)


def cmd_stall(args):
    port, secs = int(args[0]), float(args[1])
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(sys.stdin.buffer.read())
    time.sleep(secs)
    n = 0
    deadline = time.monotonic() + 0.5
    while n < 1024 * 1024:
        chunk = recv(s, deadline)
        if not chunk:
            break
        n += len(chunk)
    print(n)
    s.close()


def cmd_serve(args):
    port, mode = int(args[0]), args[1]
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    if mode == "blackhole":
        # backlog 0 holds one connection; fill it, never accept, and the
        # kernel drops further SYNs: a connect that neither fails nor ends.
        ls.listen(0)
        fillers = []
        for _ in range(3):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
            time.sleep(0.1)
        print("blackhole ready", flush=True)
        time.sleep(3600)
        return
    ls.listen(64)
    print("serving %s on %d" % (mode, port), flush=True)
    held = []
    for _ in range(10000):
        c, _ = ls.accept()
        if mode == "sink":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            held.append(c)
            continue
        c.settimeout(10)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                chunk = c.recv(65536)
                if not chunk:
                    break
                buf += chunk
            if mode == "garbage" and buf:
                c.sendall(b"HTTP/1.1 2OO NOT A STATUS\r\n"
                          b"Content-Length: 2\r\n\r\nhi")
                time.sleep(0.2)
            elif mode.startswith(("reply:", "hold:")) and buf:
                kind, _, fn = mode.partition(":")
                with open(fn, "rb") as f:
                    c.sendall(f.read())
                if kind == "hold":
                    held.append(c)
                    continue
                time.sleep(0.2)
        except OSError:
            pass
        c.close()


def render(case, host):
    def b(v):
        v = str(v)
        try:
            return v.encode("latin-1")
        except UnicodeEncodeError:
            return v.encode("utf-8")
    names = [str(h["name"]).strip().lower() for h in case["headers"] or []]
    out = b"%s %s %s\r\n" % (b(case["method"]), b(case["uri"]),
                             b(case["version"]))
    if "host" not in names:
        out += b"Host: " + host.encode() + b"\r\n"
    for h in case["headers"] or []:
        out += b(h["name"]) + b": " + b(h["value"]) + b"\r\n"
    return out + b"\r\n"


def cmd_desync(args):
    import yaml
    port, host, files = int(args[0]), args[1], args[2:]
    total = refused = 0
    for fn in files:
        with open(fn) as f:
            cases = yaml.safe_load(f)
        for case in cases:
            if case["expected"]["tier"] != "Severe":
                continue
            total += 1
            status, flags, closed, _, _ = exchange(port, render(case, host),
                                                   2.0, linger=2.0)
            if status == "400" and closed:
                refused += 1
                print("ok %s" % case["name"].encode("unicode_escape")
                      .decode())
            else:
                print("FAIL %s: got %s %s %s" % (
                    case["name"].encode("unicode_escape").decode(), status,
                    flags, "closed" if closed else "open"))
    print("severe %d refused %d" % (total, refused))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    {"send": cmd_send, "stall": cmd_stall, "serve": cmd_serve,
     "desync": cmd_desync}[cmd](args)


if __name__ == "__main__":
    main()
