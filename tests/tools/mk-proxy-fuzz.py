#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A bounded random client and backend pair around a running proxy-d
(tests/e2e/t_fuzz_proxy.sh), driving it with random and mutated byte
streams on both sides and checking what must hold whatever the bytes:

  mk-proxy-fuzz.py -p PROXY_PORT -b BACKEND_PORT -H HOST [-s SEED]
      [-n CONNS] [-t SECONDS] [-c CONCURRENT] [-P PID] [-r RSS_KB]
      [-d DIR] [-v]

The backend listens on 127.0.0.1:BACKEND_PORT (the proxy's route for HOST
must lead there).  Every request carries a tag, tNNNnMMMz (connection NNN,
request MMM), in its path, an x-tag header and its body; the backend
answers with the tag of the request it got, in x-tag and in its body.
The invariants:

  foreign     a client never receives a tag its own connection did not send
              (no byte of one exchange reaches another)
  mixed       a request the backend receives holds the tags of one client
              connection only
  count       a connection gets at most one response per request it sent
  duplicate   no two responses on a connection carry one request's tag
  order       on an unmutated connection the i-th response answers the i-th
              request, and its bytes parse as HTTP/1.1
  hang        a connection that keeps reading is answered or closed within
              HANG seconds of its last byte either way (proxy-d's
              deadlines)
  alive, rss  proxy-d (-P) is alive at the end, its peak RSS under -r kB
  served      after the run, a plain request through the proxy gets 200

-d DIR keeps the bytes a failing connection sent and received there
(conn-N.sent, conn-N.recv); -v logs each backend answer on stderr.

All random choices come from the seed (printed on failure: run again with
-s SEED); a client connection's plan depends on the seed and its number
only, a backend answer on the seed and the request's tag.  Timing still
varies from run to run.  Prints a summary line; exits 1 on a violation.
"""
import errno
import os
import random
import re
import selectors
import socket
import struct
import sys
import threading
import time

TOKEN = re.compile(rb"t(\d+)n(\d+)z")
HANG = 15.0		# s: the proxy's timeouts are 2 s in the test
CONN_LIMIT = 40.0	# s: the longest a client connection lives


def tokens(data):
    return set(m.group(0) for m in TOKEN.finditer(data))


def pattern(tag, n):
    unit = tag + b"."
    return (unit * (n // len(unit) + 1))[:n]


class Fuzz:
    def __init__(self, opts):
        self.o = opts
        self.sel = selectors.DefaultSelector()
        self.violations = []
        self.stats = {"conns": 0, "requests": 0, "responses": 0,
                      "upstream": 0, "mutated": 0, "answers": 0}
        self.token_conns = {}	# token -> set of client conn ids
        self.timers = []	# (due, fn)

    def violation(self, kind, what, conn=None):
        if len(self.violations) < 50:
            self.violations.append("%s: %s" % (kind, what))
        if conn is not None and self.o["dump"]:
            # what the connection sent and got, to look at
            base = os.path.join(self.o["dump"], "conn-%d" % conn.id)
            with open(base + ".sent", "wb") as f:
                f.write(b"".join(r[2] for r in conn.requests))
            with open(base + ".recv", "wb") as f:
                f.write(bytes(conn.received))

    def log(self, *a):
        if self.o["verbose"]:
            print(*a, file=sys.stderr, flush=True)

    def later(self, delay, fn):
        self.timers.append((time.monotonic() + delay, fn))

    def register(self, sock, events, obj):
        try:
            self.sel.register(sock, events, obj)
        except KeyError:
            self.sel.modify(sock, events, obj)

    def unregister(self, sock):
        try:
            self.sel.unregister(sock)
        except (KeyError, ValueError):
            pass


# ---------------------------------------------------------------- clients

def make_request(rng, tag, host, last):
    """(bytes, method, body data, clean framing)"""
    method = rng.choice([b"GET"] * 5 + [b"POST"] * 3 + [b"PUT", b"HEAD",
                                                       b"DELETE", b"OPTIONS"])
    version = b"HTTP/1.0" if rng.random() < 0.05 else b"HTTP/1.1"
    path = b"/f/" + tag
    if rng.random() < 0.2:
        path += b"?q=" + tag
    h = [b"Host: " + host, b"x-tag: " + tag]
    for i in range(rng.choice([0, 0, 1, 3, 20])):
        h.append(b"x-r%d: %s" % (i, pattern(tag, rng.randint(0, 300))))
    if rng.random() < 0.05:
        h.append(b"Expect: 100-continue")
    if last and rng.random() < 0.3:
        h.append(b"Connection: close")
    if version == b"HTTP/1.0" and rng.random() < 0.5:
        h.append(b"Connection: keep-alive")
    body = b""
    framed = b""
    if method in (b"POST", b"PUT") or (method != b"HEAD" and
                                       rng.random() < 0.05):
        n = rng.choice([0, 1, 10, 100, 1000, 5000, 70000, 300000])
        body = pattern(tag, n)
        if version == b"HTTP/1.1" and rng.random() < 0.4:
            h.append(b"Transfer-Encoding: chunked")
            pos = 0
            while pos < n:
                k = min(n - pos, rng.choice([1, 7, 100, 4096, 65536]))
                ext = b";x=1" if rng.random() < 0.05 else b""
                framed += b"%x%s\r\n%s\r\n" % (k, ext, body[pos:pos + k])
                pos += k
            framed += b"0\r\n\r\n"
        else:
            h.append(b"Content-Length: %d" % n)
            framed = body
    rng.shuffle(h)
    head = b"%s %s %s\r\n%s\r\n\r\n" % (method, path, version,
                                        b"\r\n".join(h))
    return head + framed, method, body


def mutate(rng, data):
    """One random change of the bytes, of the kinds parsers trip on."""
    if not data:
        return data
    i = rng.randrange(len(data))
    k = rng.randrange(9)
    if k == 0:
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    if k == 1:
        return data[:i] + rng.choice([b"\r", b"\n", b" ", b"\t", b"\x00",
                                      b":", b",", b"\r\n", b"\x7f",
                                      b"\xff"]) + data[i:]
    if k == 2:
        return data[:i] + data[i + 1:]
    if k == 3:
        return data[:i]				# truncated
    if k == 4:
        extra = rng.choice([b"Content-Length: 5\r\n",
                            b"Content-Length: 10000000000000\r\n",
                            b"Transfer-Encoding: chunked\r\n",
                            b"Transfer-Encoding: gzip, chunked\r\n",
                            b"Transfer-Encoding: chunked, gzip\r\n",
                            b"Content-Length: -1\r\n",
                            b" folded\r\n", b"Host: other\r\n",
                            b"x:\r\n", b"Connection: close\r\n",
                            b"Content-Length: 0\r\n"])
        j = data.find(b"\r\n") + 2
        return data[:j] + extra + data[j:]
    if k == 5:
        return data.replace(b"HTTP/1.1", rng.choice(
            [b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.10", b"HTTP/1.1 "]), 1)
    if k == 6:
        n = rng.randint(1, 64)
        return data[:i] + bytes(rng.randrange(256) for _ in range(n)) + \
            data[i:]
    if k == 7:
        # a second request smuggled into the first's body
        return data + b"GET /x HTTP/1.1\r\nHost: smuggled\r\n\r\n"
    return data.replace(b"\r\n", b"\n", 1)


class Client:
    """One client connection with its plan."""

    def __init__(self, fz, cid):
        self.fz = fz
        self.id = cid
        o = fz.o
        rng = random.Random(o["seed"] * 1000003 + cid)
        self.rng = rng
        self.requests = []		# (tag, method, bytes)
        n = rng.choice([1, 1, 1, 2, 3, 5, 10])
        self.pipelined = rng.random() < 0.4
        self.mutated = False
        data_tokens = set()
        for r in range(n):
            tag = b"t%dn%dz" % (cid, r)
            raw, method, body = make_request(rng, tag, o["host"],
                                             r == n - 1)
            if rng.random() < 0.12:
                raw = mutate(rng, raw)
                self.mutated = True
            self.requests.append((tag, method, raw))
            data_tokens |= tokens(raw) | tokens(body)
        self.garbage = rng.random() < 0.03
        if self.garbage:
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(1,
                                                                      4000)))
            self.requests = [(b"-", b"GET", raw)]
            self.mutated = True
        self.halfclose = rng.random() < 0.1
        self.abort_at = None		# reset after this many bytes sent
        if rng.random() < 0.05:
            total = sum(len(x[2]) for x in self.requests)
            self.abort_at = rng.randint(0, max(0, total))
            self.mutated = True
        self.split = rng.random() < 0.3
        self.read_pause = rng.choice([0] * 8 + [1.0, 3.0])
        self.small_rcvbuf = rng.random() < 0.1
        self.sent_tokens = data_tokens
        for t in data_tokens:
            fz.token_conns.setdefault(t, set()).add(cid)
        self.sock = None
        self.out = b""
        self.next_req = 0
        self.sent_all = False
        self.received = bytearray()
        self.closed = False
        self.done = False
        self.last_sent = time.monotonic()
        self.last_seen = self.last_sent		# last byte either way
        self.start = time.monotonic()
        self.reading = False
        self.wait_answer = 0		# sequential: responses awaited
        self.parsed = 0			# responses seen so far (sequential)
        self.held = False		# a split write waits for a timer
        self.sent_count = 0

    def open(self):
        fz = self.fz
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.small_rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.connect(("127.0.0.1", fz.o["proxy"]))
        except BlockingIOError:
            pass
        self.sock = s
        fz.stats["conns"] += 1
        if self.mutated:
            fz.stats["mutated"] += 1
        self.queue_next()
        if self.read_pause > 0:
            fz.later(self.read_pause, self.start_reading)
        else:
            self.reading = True
        self.update()

    def start_reading(self):
        if not self.done:
            self.reading = True
            self.update()

    def queue_next(self):
        """Queues the next request, or all of them when pipelined."""
        while self.next_req < len(self.requests):
            tag, method, raw = self.requests[self.next_req]
            self.next_req += 1
            self.fz.stats["requests"] += 1
            self.out += raw
            if not self.pipelined:
                self.wait_answer += 1
                break
        if self.next_req == len(self.requests):
            self.sent_all = True

    def update(self):
        if self.done:
            return
        ev = 0
        if self.out and not self.held:
            ev |= selectors.EVENT_WRITE
        if self.reading:
            ev |= selectors.EVENT_READ
        if ev:
            self.fz.register(self.sock, ev, self)
        else:
            self.fz.unregister(self.sock)

    def release(self):
        self.held = False
        self.update()

    def on_write(self):
        n = len(self.out)
        if self.split:
            n = min(n, self.rng.choice([1, 2, 10, 100, 1000, 65536]))
        if self.abort_at is not None:
            if self.sent_count >= self.abort_at:
                self.reset()
                return
            n = min(n, self.abort_at - self.sent_count)
        try:
            k = self.sock.send(self.out[:n])
        except BlockingIOError:
            return
        except OSError:
            self.finish()
            return
        self.sent_count += k
        self.out = self.out[k:]
        self.last_sent = self.last_seen = time.monotonic()
        if self.split and self.out and self.rng.random() < 0.3:
            self.held = True
            self.fz.later(self.rng.choice([0.001, 0.01, 0.1]), self.release)
        if not self.out and self.sent_all and self.halfclose:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        self.update()

    def reset(self):
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.finish(aborted=True)

    def on_read(self):
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            self.finish()
            return
        self.received += data
        self.last_seen = time.monotonic()
        if not self.pipelined and self.wait_answer > 0:
            n = count_final(bytes(self.received), self.methods_sent(),
                            partial_ok=True)
            if n > self.parsed:
                self.parsed = n
                self.wait_answer = 0
                if self.next_req < len(self.requests):
                    self.queue_next()
        if self.all_answered():
            self.finish()
            return
        self.update()

    def methods_sent(self):
        return [m for _, m, _ in self.requests[:self.next_req]]

    def all_answered(self):
        if not self.sent_all or self.out:
            return False
        n = count_final(bytes(self.received), self.methods_sent(),
                        partial_ok=False)
        return n >= len(self.requests)

    def check_hang(self, now):
        if self.done:
            return
        if now - self.start > CONN_LIMIT:
            self.finish(timeout=True)
        elif (self.reading and not self.out and
              now - self.last_seen > HANG):
            self.finish(timeout=True)

    def finish(self, aborted=False, timeout=False):
        if self.done:
            return
        self.done = True
        self.fz.unregister(self.sock)
        try:
            self.sock.close()
        except OSError:
            pass
        self.check(aborted, timeout)

    def check(self, aborted, timeout):
        fz = self.fz
        data = bytes(self.received)
        foreign = tokens(data) - self.sent_tokens
        if foreign:
            fz.violation("foreign", "conn %d got %s (sent %d requests)" % (
                self.id, b" ".join(sorted(foreign)[:5]).decode("latin-1"),
                len(self.requests)), self)
        resp = parse_responses(data, self.methods_sent())
        finals = [r for r in resp["responses"] if r[0] >= 200]
        fz.stats["responses"] += len(finals)
        limit = len(self.requests)
        if self.mutated:
            limit = max(limit, sum(x[2].count(b"\r\n\r\n")
                                   for x in self.requests)) + 1
        if len(finals) > limit:
            fz.violation("count", "conn %d: %d responses to %d requests" %
                         (self.id, len(finals), len(self.requests)), self)
        tags = [r[1] for r in finals if r[1] is not None]
        if len(set(tags)) != len(tags):
            fz.violation("duplicate", "conn %d: x-tags %s" % (
                self.id, b" ".join(tags).decode("latin-1")), self)
        if not self.mutated:
            if resp["error"] is not None and not resp["truncated"]:
                fz.violation("order", "conn %d: unparseable: %s" % (
                    self.id, resp["error"]), self)
            for i, r in enumerate(finals):
                # (an x-tag the backend broke on purpose says nothing)
                if r[1] is not None and TOKEN.fullmatch(r[1]) and \
                        i < len(self.requests) and \
                        r[1] != self.requests[i][0]:
                    fz.violation("order", "conn %d: response %d has x-tag "
                                 "%s, request %d was %s" % (
                                     self.id, i, r[1].decode("latin-1"), i,
                                     self.requests[i][0].decode("latin-1")),
                                 self)
                    break
        if timeout and not self.closed:
            fz.violation("hang", "conn %d: %d of %d requests answered, "
                         "still open %.0f s after the last byte either "
                         "way" % (self.id, len(finals), len(self.requests),
                                  time.monotonic() - self.last_seen), self)


def parse_responses(data, methods):
    """{"responses": [(status, x-tag)], "error", "truncated"}"""
    out = {"responses": [], "error": None, "truncated": False}
    pos = 0
    i = 0
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            out["truncated"] = True
            break
        lines = data[pos:end].split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d\d\d) ", lines[0] + b" ")
        if not m:
            out["error"] = "status line %r" % lines[0][:40]
            break
        status = int(m.group(1))
        hdr = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            hdr.setdefault(k.strip().lower(), v.strip())
        pos = end + 4
        if status < 200:
            out["responses"].append((status, None))
            continue
        method = methods[i] if i < len(methods) else b"GET"
        i += 1
        out["responses"].append((status, hdr.get(b"x-tag")))
        if method == b"HEAD" or status in (204, 304):
            continue
        te = hdr.get(b"transfer-encoding")
        if te is not None and te.lower().endswith(b"chunked"):
            while True:
                e = data.find(b"\r\n", pos)
                if e < 0:
                    out["truncated"] = True
                    return out
                try:
                    size = int(data[pos:e].split(b";")[0], 16)
                except ValueError:
                    out["error"] = "chunk size %r" % data[pos:e][:20]
                    return out
                pos = e + 2
                if size == 0:
                    e = data.find(b"\r\n\r\n", pos - 2)
                    if e < 0:
                        out["truncated"] = True
                        return out
                    pos = e + 4
                    break
                if pos + size + 2 > len(data):
                    out["truncated"] = True
                    return out
                pos += size + 2
        elif b"content-length" in hdr:
            try:
                n = int(hdr[b"content-length"])
            except ValueError:
                out["error"] = "content-length %r" % hdr[b"content-length"]
                return out
            if pos + n > len(data):
                out["truncated"] = True
                return out
            pos += n
        else:
            pos = len(data)		# delimited by the close
    return out


def count_final(data, methods, partial_ok):
    r = parse_responses(data, methods)
    finals = [x for x in r["responses"] if x[0] >= 200]
    n = len(finals)
    if r["truncated"] and not partial_ok and n > 0:
        n -= 1			# the last is still arriving
    return n


# ---------------------------------------------------------------- backend

class Upstream:
    """One connection the proxy opened to the backend."""

    def __init__(self, fz, sock):
        self.fz = fz
        self.sock = sock
        self.inb = b""
        self.out = b""			# written as fast as the proxy reads
        self.slow = []			# then these, a byte a tick
        self.close_after = False
        self.reset_after = False
        self.hold_until = 0.0
        self.hanging = False
        self.done = False
        self.drip = None		# the tick, while slow is not empty
        sock.setblocking(False)
        fz.stats["upstream"] += 1
        self.update()

    def update(self):
        if self.done:
            return
        ev = selectors.EVENT_READ
        if self.out:
            ev |= selectors.EVENT_WRITE
        self.fz.register(self.sock, ev, self)

    def on_read(self):
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.inb += data
        if len(self.inb) > (4 << 20):
            self.close()
            return
        self.parse()

    def parse(self):
        for _ in range(1000):
            if self.hanging or self.close_after or self.done or self.slow:
                return
            end = self.inb.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.inb[:end]
            lines = head.split(b"\r\n")
            hdr = {}
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                hdr.setdefault(k.strip().lower(), v.strip())
            pos = end + 4
            body = b""
            te = hdr.get(b"transfer-encoding")
            if te is not None and te.lower().endswith(b"chunked"):
                chunks = []
                while True:
                    e = self.inb.find(b"\r\n", pos)
                    if e < 0:
                        return
                    try:
                        size = int(self.inb[pos:e].split(b";")[0], 16)
                    except ValueError:
                        self.close()
                        return
                    pos = e + 2
                    if size == 0:
                        e = self.inb.find(b"\r\n\r\n", pos - 2)
                        if e < 0:
                            return
                        pos = e + 4
                        break
                    if pos + size + 2 > len(self.inb):
                        return
                    chunks.append(self.inb[pos:pos + size])
                    pos += size + 2
                body = b"".join(chunks)
            elif b"content-length" in hdr:
                try:
                    n = int(hdr[b"content-length"])
                except ValueError:
                    self.close()
                    return
                if pos + n > len(self.inb):
                    return
                body = self.inb[pos:pos + n]
                pos += n
            self.inb = self.inb[pos:]
            self.request(lines[0], head, body)

    def request(self, line, head, body):
        fz = self.fz
        fz.stats["answers"] += 1
        toks = tokens(head) | tokens(body)
        owners = None
        for t in toks:
            c = fz.token_conns.get(t, set())
            owners = set(c) if owners is None else owners & c
        if toks and not owners:
            fz.violation("mixed", "backend got a request with tags %s" %
                         b" ".join(sorted(toks)[:6]).decode("latin-1"))
        parts = line.split(b" ")
        path = parts[1] if len(parts) > 1 else b"/"
        m = TOKEN.search(path)
        tag = m.group(0) if m else b"none"
        head_req = parts[0] == b"HEAD"
        if path == b"/plain":
            self.out += b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
            self.update()
            return
        rng = random.Random("%d %s" % (fz.o["seed"], tag.decode("latin-1")))
        self.answer(rng, tag, head_req)

    def answer(self, rng, tag, head_req):
        kind = rng.choices(
            ["cl", "chunked", "close", "204", "1xx", "big", "stray", "reset",
             "garbage", "drip", "hang", "headers", "te", "padded"],
            [50, 15, 4, 4, 4, 4, 3, 3, 2, 3, 1, 3, 2, 2])[0]
        n = rng.choice([0, 1, 10, 100, 1000, 20000])
        self.fz.log("backend answers %s: %s %d" % (tag.decode("latin-1"),
                                                    kind, n))
        body = pattern(tag, n)
        base = b"HTTP/1.1 200 OK\r\nx-tag: %s\r\n" % tag
        out = b""
        if kind == "cl":
            out = base + b"Content-Length: %d\r\n\r\n" % n + \
                (b"" if head_req else body)
        elif kind in ("chunked", "padded"):
            out = base + b"Transfer-Encoding: chunked\r\n\r\n"
            if not head_req:
                pos = 0
                while pos < n:
                    k = min(n - pos, rng.choice([1, 5, 100, 8192]))
                    size = b"%016x" % k if kind == "padded" else b"%x" % k
                    out += size + b"\r\n" + body[pos:pos + k] + b"\r\n"
                    pos += k
                out += b"0\r\n\r\n"
        elif kind == "close":
            out = base + b"Connection: close\r\n\r\n" + \
                (b"" if head_req else body)
            self.close_after = True
        elif kind == "204":
            out = b"HTTP/1.1 204 No Content\r\nx-tag: %s\r\n\r\n" % tag
        elif kind == "1xx":
            out = b"HTTP/1.1 103 Early Hints\r\nx-tag: %s\r\n\r\n" % tag * \
                rng.choice([1, 2, 50]) + base + \
                b"Content-Length: %d\r\n\r\n" % n + \
                (b"" if head_req else body)
        elif kind == "big":
            n = rng.choice([100000, 1000000])
            out = base + b"Content-Length: %d\r\n\r\n" % n + \
                (b"" if head_req else pattern(tag, n))
        elif kind == "stray":
            out = base + b"Content-Length: %d\r\n\r\n" % n + \
                (b"" if head_req else body) + \
                b"HTTP/1.1 200 OK\r\nx-tag: %s\r\nContent-Length: 0\r\n\r\n" \
                % tag
        elif kind == "reset":
            out = base + b"Content-Length: %d\r\n\r\n" % (n + 100) + body
            self.reset_after = True
        elif kind == "garbage":
            out = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
            self.close_after = True
        elif kind == "drip" and not self.slow and not self.out:
            # a byte every tick, this answer only: at most ~10 s
            self.slow = list(base + b"Content-Length: %d\r\n\r\n" %
                             min(n, 100) + (b"" if head_req else body[:100]))
            self.drip = rng.choice([0.01, 0.05])
            self.fz.later(self.drip, self.drip_one)
        elif kind == "drip":
            out = base + b"Content-Length: %d\r\n\r\n" % n + \
                (b"" if head_req else body)
        elif kind == "hang":
            self.hanging = True
        elif kind == "headers":
            extra = b"".join(b"x-h%d: %s\r\n" % (i, pattern(tag, 100))
                             for i in range(rng.choice([10, 200, 2000])))
            out = base + extra + b"Content-Length: %d\r\n\r\n" % n + \
                (b"" if head_req else body)
        elif kind == "te":
            out = base + b"Transfer-Encoding: %s\r\n\r\n" % rng.choice(
                [b"gzip", b"gzip, chunked", b"x-custom"]) + \
                (b"" if head_req else body)
            self.close_after = True
        if rng.random() < 0.03 and out:
            # broken framing, not new tags: those would be ours, not a leak
            bad = mutate(rng, out)
            if tokens(bad) <= tokens(out):
                out = bad
        self.out += out
        self.update()

    def drip_one(self):
        if self.done:
            return
        if not self.slow:
            self.drip = None
            self.parse()		# the requests that came meanwhile
            self.update()
            return
        try:
            k = self.sock.send(bytes(self.slow[:1]))
        except BlockingIOError:
            k = 0
        except OSError:
            self.close()
            return
        del self.slow[:k]
        self.fz.later(self.drip, self.drip_one)

    def on_write(self):
        try:
            k = self.sock.send(self.out[:262144])
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        self.out = self.out[k:]
        if not self.out:
            if self.reset_after:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
                self.close()
                return
            if self.close_after:
                self.close()
                return
            self.parse()
        self.update()

    def close(self):
        if self.done:
            return
        self.done = True
        self.fz.unregister(self.sock)
        try:
            self.sock.close()
        except OSError:
            pass


class Listener:
    def __init__(self, fz, port):
        self.fz = fz
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(256)
        s.setblocking(False)
        self.sock = s
        self.upstreams = []
        fz.register(s, selectors.EVENT_READ, self)

    def on_read(self):
        for _ in range(64):
            try:
                c, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE):
                    return
                raise
            self.upstreams.append(Upstream(self.fz, c))


# ---------------------------------------------------------------- the run

def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def plain_request(port, host):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /plain HTTP/1.1\r\nHost: %s\r\n"
                  b"Connection: close\r\n\r\n" % host)
        d = b""
        while True:
            x = s.recv(65536)
            if not x:
                break
            d += x
        s.close()
        return d.split(b"\r\n", 1)[0]
    except OSError as e:
        return str(e).encode()


def run(o):
    fz = Fuzz(o)
    lst = Listener(fz, o["backend"])
    clients = []
    started = 0
    begin = time.monotonic()
    end = begin + o["seconds"]
    last_hang_check = 0.0
    for _ in range(100000000):
        now = time.monotonic()
        active = [c for c in clients if not c.done]
        if now < end:
            while len(active) < o["concurrent"] and started < o["conns"]:
                c = Client(fz, started)
                started += 1
                clients.append(c)
                c.open()
                active.append(c)
        if not active and (started >= o["conns"] or now >= end):
            break
        if now > end + CONN_LIMIT + 5:
            break
        due = [t for t in fz.timers if t[0] <= now]
        if due:
            fz.timers = [t for t in fz.timers if t[0] > now]
            for _, fn in due:
                fn()
        if now - last_hang_check > 0.5:
            last_hang_check = now
            for c in active:
                c.check_hang(now)
        for key, ev in fz.sel.select(0.02):
            obj = key.data
            if ev & selectors.EVENT_READ:
                obj.on_read()
            if ev & selectors.EVENT_WRITE and not getattr(obj, "done",
                                                          False):
                obj.on_write()
    for c in clients:
        c.finish(timeout=not c.done)
    # a plain request, the backend still answering meanwhile
    box = []
    th = threading.Thread(target=lambda: box.append(
        plain_request(o["proxy"], o["host"])), daemon=True)
    th.start()
    for _ in range(1000):
        if not th.is_alive():
            break
        for key, ev in fz.sel.select(0.01):
            obj = key.data
            if ev & selectors.EVENT_READ:
                obj.on_read()
            if ev & selectors.EVENT_WRITE and not getattr(obj, "done",
                                                          False):
                obj.on_write()
    th.join(1)
    first = box[0] if box else b"no answer in 10 s"
    for u in lst.upstreams:
        u.close()
    if o["pid"]:
        try:
            os.kill(o["pid"], 0)
        except OSError:
            fz.violation("alive", "proxy-d (pid %d) is gone" % o["pid"])
        else:
            kb = rss_kb(o["pid"])
            if o["rss"] and kb is not None and kb > o["rss"]:
                fz.violation("rss", "proxy-d's peak RSS %d kB > %d kB" %
                             (kb, o["rss"]))
            fz.stats["rss_kb"] = kb
    if not first.startswith(b"HTTP/1.1 200"):
        fz.violation("served", "a plain request after the run got %r" %
                     first[:60])
    s = fz.stats
    print("seed %d: %d connections (%d mutated), %d requests, %d "
          "responses; backend: %d connections, %d requests; proxy-d peak "
          "RSS %s kB; %.1f s; violations %d" % (
              o["seed"], s["conns"], s["mutated"], s["requests"],
              s["responses"], s["upstream"], s["answers"],
              s.get("rss_kb", "?"), time.monotonic() - begin,
              len(fz.violations)))
    for v in fz.violations:
        print("VIOLATION " + v)
    if fz.violations:
        print("reproduce: mk-proxy-fuzz.py -s %d -n %d -c %d (same proxy "
              "config)" % (o["seed"], o["conns"], o["concurrent"]))
        return 1
    return 0


def main():
    o = {"seed": None, "conns": 200, "seconds": 60.0, "concurrent": 16,
         "pid": 0, "rss": 0, "verbose": False, "host": b"fuzz", "dump": None,
         "proxy": None, "backend": None}
    args = sys.argv[1:]
    flags = {"-p": ("proxy", int), "-b": ("backend", int),
             "-H": ("host", str.encode), "-s": ("seed", int),
             "-n": ("conns", int), "-t": ("seconds", float),
             "-c": ("concurrent", int), "-P": ("pid", int),
             "-r": ("rss", int), "-d": ("dump", str)}
    while args:
        a = args.pop(0)
        if a == "-v":
            o["verbose"] = True
        elif a in flags and args:
            k, f = flags[a]
            o[k] = f(args.pop(0))
        else:
            sys.exit(__doc__)
    if o["proxy"] is None or o["backend"] is None:
        sys.exit(__doc__)
    if o["seed"] is None:
        o["seed"] = random.SystemRandom().randrange(1 << 31)
    sys.exit(run(o))


if __name__ == "__main__":
    main()
