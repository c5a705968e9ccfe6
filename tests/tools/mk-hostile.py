#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Hostile peers for proxy-d's end-to-end tests (tests/e2e/t_hostile.sh):
an upstream that breaks HTTP/1.1 in the ways real servers do, and
clients that do what attackers and broken programs do.  Every loop is
bounded in count and in time; nothing here waits without a deadline.

  mk-hostile.py backend PORT
      An upstream on 127.0.0.1:PORT, one thread per connection, keep-alive.
      What it does depends on the request's path; TAG is any word, echoed
      so that a test can tell whose bytes it got.  Each request is logged
      on stdout as "req TAG METHOD PATH" and the whole head is kept in
      memory for /heads.
        /ok/TAG             200 "ok TAG"
        /stray/TAG          200 "ok TAG", then at once a second response
                            nobody asked for ("STRAY TAG") on the same
                            connection
        /aligned/N/TAG      an answer of exactly N bytes, head included,
                            and the unasked-for response in the same write
        /late/MS/TAG        200 "ok TAG", and MS ms later the same
                            unasked-for response as /stray
        /204stray/TAG       204, then the bytes "STRAY TAG ..."
        /1xx/N/TAG          N interim responses (103 Early Hints), then
                            200 "ok TAG"
        /te/CODING/TAG      200 with "Transfer-Encoding: CODING" (not
                            chunked): a body delimited by the close
        /slow/N/MS/TAG      200, Content-Length N, one byte every MS ms
        /endless/TAG        200, chunked, 16 KiB chunks without end (at
                            most 4 GiB and 10 minutes); logs "end TAG WHY"
                            when the proxy closes the connection
        /stall/N/TAG        200, Content-Length N, half of the body, then
                            silence for a minute
        /reset/N/TAG        200, Content-Length N, half of the body, then
                            a reset (RST)
        /resethead/TAG      a reset before any response
        /chunkpad/TAG       200, chunked, with chunk sizes zero-padded
                            to 16 digits
        /heads              200, the heads received so far whose path
                            has "/rec/", one per line, as Python reprs
        /rec/TAG            200 "ok TAG" after reading the body: at most
                            1 MiB or 2 s, then closes
        anything else       200 "ok"

  mk-hostile.py pipeflood PORT HOST SECONDS MAXMB
      Pipelined GET / for HOST on one connection, never reading, for at
      most SECONDS or MAXMB megabytes; then holds the connection a second
      and prints "sent BYTES".

  mk-hostile.py noread PORT HOST PATH SECONDS
      One request, then reads nothing for SECONDS; then drains what is
      there (at most 2 s) and prints "closed" if the proxy closed the
      connection by then, "open" if not.

  mk-hostile.py halfclose PORT HOST METHOD PATH BODYLEN
      One request with a body of BODYLEN bytes (Content-Length; 0: none),
      then shutdown(SHUT_WR); prints the response's status line and body
      (or "none").

  mk-hostile.py slowupload PORT HOST PATH LEN PIECE MS [STOPAT]
      A Content-Length LEN upload sent PIECE bytes every MS ms; with
      STOPAT, the client stops sending after STOPAT bytes and waits.
      Prints the status and body of the response, or "none", then
      "closed"/"open" and the seconds it took.

  mk-hostile.py request PORT [-t SECS] <request
      Sends stdin as is, then reads for SECS (default 5) or until the
      proxy closes; prints every status line received (one a line), then
      "body BYTES" (the bytes after the last head), then "closed" or
      "open".  -o FILE keeps the raw bytes.
"""
import select
import socket
import struct
import sys
import threading
import time

HEAD_MAX = 65536
HEADS = []			# /rec/ heads, for /heads
HEADS_LOCK = threading.Lock()


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------- backend

class Reader:
    """A connection's input: what has arrived and not been used yet."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self, deadline):
        """More bytes into buf; False at EOF, error or the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            return False
        self.buf += chunk
        return len(chunk) > 0

    def head(self, deadline):
        """The next head (without its CRLFCRLF), or None."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > HEAD_MAX or not self.fill(deadline):
                return None
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head

    def take(self, n):
        got = self.buf[:n]
        self.buf = self.buf[n:]
        return len(got)

    def body(self, head, limit, deadline):
        """Reads the body the head frames (Content-Length or chunked) as
        far as limit bytes and the deadline allow: (bytes, complete)."""
        te = header(head, b"transfer-encoding")
        cl = header(head, b"content-length")
        if te is not None and te.lower().endswith(b"chunked"):
            n = 0
            while n <= limit:
                while b"\r\n" not in self.buf:
                    if not self.fill(deadline):
                        return n, False
                line, _, self.buf = self.buf.partition(b"\r\n")
                try:
                    size = int(line.split(b";")[0], 16)
                except ValueError:
                    return n, False
                if size == 0:
                    # trailers: up to the empty line
                    while True:
                        while b"\r\n" not in self.buf:
                            if not self.fill(deadline):
                                return n, False
                        line, _, self.buf = self.buf.partition(b"\r\n")
                        if not line:
                            return n, True
                left = size + 2
                while left > 0:
                    if not self.buf and not self.fill(deadline):
                        return n, False
                    left -= self.take(left)
                n += size
            return n, False
        if cl is None:
            return 0, True
        try:
            want = int(cl)
        except ValueError:
            return 0, False
        n = 0
        while n < want and n <= limit:
            if not self.buf and not self.fill(deadline):
                return n, False
            n += self.take(want - n)
        return n, n == want


def header(head, name):
    for line in head.split(b"\r\n")[1:]:
        n, _, v = line.partition(b":")
        if n.strip().lower() == name:
            return v.strip()
    return None


def response(status, body, extra=b"", close=False):
    reason = {200: b"OK", 204: b"No Content"}.get(status, b"Status")
    h = b"HTTP/1.1 %d %s\r\n" % (status, reason)
    if status != 204:
        h += b"Content-Length: %d\r\n" % len(body)
    h += extra
    if close:
        h += b"Connection: close\r\n"
    return h + b"\r\n" + (body if status != 204 else b"")


def reset(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def pattern(tag, n):
    unit = tag + b"."
    return (unit * (n // len(unit) + 1))[:n]


def serve_conn(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rd = Reader(c)
    for _ in range(100000):
        head = rd.head(time.monotonic() + 600)
        if head is None:
            break
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        method = parts[0]
        path = parts[1] if len(parts) > 1 else b"/"
        seg = path.split(b"?")[0].split(b"/")[1:]
        tag = seg[-1] if seg else b"-"
        kind = seg[0] if seg else b""
        log("req %s %s %s" % (tag.decode("latin-1"),
                              method.decode("latin-1"),
                              path.decode("latin-1")))
        try:
            if kind == b"rec":
                with HEADS_LOCK:
                    HEADS.append(repr(head + b"\r\n\r\n"))
                n, _ = rd.body(head, 1 << 20, time.monotonic() + 2)
                c.sendall(response(200, b"ok %s %d\n" % (tag, n),
                                   close=True))
                break
            _, complete = rd.body(head, 1 << 30, time.monotonic() + 30)
            if not complete or not answer(c, method, kind, seg, tag):
                break
        except OSError:
            break
    try:
        c.close()
    except OSError:
        pass


def answer(c, method, kind, seg, tag):
    """Sends the answer; False when the connection is done."""
    def arg(i, default=0):
        try:
            return int(seg[i])
        except (IndexError, ValueError):
            return default
    if kind == b"ok":
        c.sendall(response(200, b"ok %s\n" % tag))
    elif kind == b"stray":
        c.sendall(response(200, b"ok %s\n" % tag) +
                  response(200, b"STRAY %s\n" % tag))
    elif kind == b"aligned":
        # answer of exactly N bytes, the stray response in the same write:
        # a reader taking N-byte (or N/2^k) reads ends the answer at a
        # read's end, and the stray bytes wait in the socket
        n = max(256, min(arg(1), 1 << 20))
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
        size = n - len(head % n)
        size += n - len(head % size) - size
        c.sendall(head % size + pattern(tag, size - 1) + b"\n" +
                  response(200, b"STRAY %s\n" % tag))
    elif kind == b"late":
        c.sendall(response(200, b"ok %s\n" % tag))
        time.sleep(min(arg(1), 10000) / 1000.0)
        c.sendall(response(200, b"STRAY %s\n" % tag))
    elif kind == b"204stray":
        c.sendall(response(204, b"") + b"STRAY %s " % tag * 8)
    elif kind == b"1xx":
        n = min(arg(1), 100000)
        c.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" * n +
                  response(200, b"ok %s\n" % tag))
    elif kind == b"te":
        coding = seg[1] if len(seg) > 2 else b"gzip"
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n"
                  b"Connection: close\r\n\r\n" % coding +
                  pattern(tag, 1000))
        return False
    elif kind == b"slow":
        n, ms = min(arg(1), 1 << 20), arg(2, 10)
        body = pattern(tag, n)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
        for i in range(n):
            c.sendall(body[i:i + 1])
            time.sleep(ms / 1000.0)
    elif kind == b"endless":
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"4000\r\n" + pattern(tag, 16384) + b"\r\n"
        end = time.monotonic() + 600
        why = "bound"
        try:
            for _ in range(4 << 30 >> 14):
                if time.monotonic() > end:
                    break
                c.sendall(chunk)
        except OSError as e:
            why = e.__class__.__name__
        log("end %s %s" % (tag.decode("latin-1"), why))
        return False
    elif kind in (b"stall", b"reset"):
        n = max(2, min(arg(1), 1 << 30))
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n +
                  pattern(tag, n // 2))
        if kind == b"reset":
            time.sleep(0.2)
            reset(c)
            return False
        time.sleep(60)
        return False
    elif kind == b"resethead":
        reset(c)
        return False
    elif kind == b"chunkpad":
        body = pattern(tag, 78)
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"%016x\r\n%s\r\n%016x\r\n\r\n" % (len(body), body, 0))
    elif kind == b"heads":
        with HEADS_LOCK:
            body = "".join(h + "\n" for h in HEADS).encode()
        c.sendall(response(200, body))
    else:
        c.sendall(response(200, b"ok\n"))
    return True


def cmd_backend(args):
    port = int(args[0])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    log("hostile backend on %d" % port)
    for _ in range(1000000):
        c, _ = ls.accept()
        threading.Thread(target=serve_conn, args=(c,), daemon=True).start()


# ---------------------------------------------------------------- clients

def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def drain(s, seconds, limit=64 << 20):
    """(bytes, closed): what arrives within seconds, up to limit."""
    out = []
    n = 0
    end = time.monotonic() + seconds
    while n < limit:
        left = end - time.monotonic()
        if left <= 0:
            return b"".join(out), False
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return b"".join(out), False
        try:
            chunk = s.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            return b"".join(out), True
        if not chunk:
            return b"".join(out), True
        out.append(chunk)
        n += len(chunk)
    return b"".join(out), False


def status_and_body(data):
    """The last final response's status line and body, skipping 1xx."""
    while data.startswith(b"HTTP/1.1 1") or data.startswith(b"HTTP/1.0 1"):
        i = data.find(b"\r\n\r\n")
        if i < 0:
            break
        data = data[i + 4:]
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return "none", b""
    return head.split(b"\r\n", 1)[0].decode("latin-1"), body


def cmd_pipeflood(args):
    port, host = int(args[0]), args[1].encode()
    seconds, maxbytes = float(args[2]), int(args[3]) << 20
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setblocking(False)
    req = b"GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % host
    batch = req * (65536 // len(req))
    sent = 0
    end = time.monotonic() + seconds
    while sent < maxbytes and time.monotonic() < end:
        _, w, _ = select.select([], [s], [], max(0, end - time.monotonic()))
        if not w:
            break
        try:
            sent += s.send(batch)
        except BlockingIOError:
            continue
        except OSError:
            break
    time.sleep(1)
    print("sent %d" % sent, flush=True)
    s.close()


def cmd_noread(args):
    port, host, path, secs = int(args[0]), args[1], args[2], float(args[3])
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
              (path.encode(), host.encode()))
    time.sleep(secs)
    _, closed = drain(s, 2.0)
    print("closed" if closed else "open", flush=True)
    s.close()


def cmd_halfclose(args):
    port, host, method, path = int(args[0]), args[1], args[2], args[3]
    n = int(args[4])
    s = connect(port)
    req = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method.encode(), path.encode(),
                                              host.encode())
    if n > 0:
        req += b"Content-Length: %d\r\n" % n
    s.sendall(req + b"\r\n" + pattern(b"hc", n))
    s.shutdown(socket.SHUT_WR)
    data, _ = drain(s, 10.0)
    st, body = status_and_body(data)
    print(st, body.decode("latin-1").strip(), flush=True)
    s.close()


def cmd_slowupload(args):
    port, host, path = int(args[0]), args[1], args[2]
    n, piece, ms = int(args[3]), int(args[4]), float(args[5])
    stop = int(args[6]) if len(args) > 6 else n
    s = connect(port)
    start = time.monotonic()
    s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n" %
              (path.encode(), host.encode(), n))
    body = pattern(b"slow", n)
    sent = 0
    answered = False
    while sent < stop:
        k = min(piece, stop - sent)
        try:
            s.sendall(body[sent:sent + k])
        except OSError:
            break
        sent += k
        r, _, _ = select.select([s], [], [], ms / 1000.0)
        if r:
            answered = True
            break
    data, closed = drain(s, 15.0 if (answered or sent == n) else 30.0,
                         1 << 20)
    st, rbody = status_and_body(data)
    print(st, rbody.decode("latin-1").strip(), flush=True)
    print("closed" if closed else "open", "%.1f" % (time.monotonic() - start),
          flush=True)
    s.close()


def cmd_request(args):
    port = int(args.pop(0))
    secs, out = 5.0, None
    while args:
        a = args.pop(0)
        if a == "-t":
            secs = float(args.pop(0))
        elif a == "-o":
            out = args.pop(0)
    s = connect(port)
    s.sendall(sys.stdin.buffer.read())
    data, closed = drain(s, secs)
    if out:
        with open(out, "wb") as f:
            f.write(data)
    rest = data
    last_body = b""
    for _ in range(1000000):
        if not (rest.startswith(b"HTTP/1.")):
            break
        head, sep, after = rest.partition(b"\r\n\r\n")
        print(head.split(b"\r\n", 1)[0].decode("latin-1"))
        if not sep:
            break
        rest = after
        last_body = after
    print("body %d" % len(last_body))
    print("closed" if closed else "open", flush=True)
    s.close()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    {"backend": cmd_backend, "pipeflood": cmd_pipeflood,
     "noread": cmd_noread, "halfclose": cmd_halfclose,
     "slowupload": cmd_slowupload, "request": cmd_request}[cmd](args)


if __name__ == "__main__":
    main()
