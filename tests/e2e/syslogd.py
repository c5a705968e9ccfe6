#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A syslog daemon for one test: receives datagrams on a Unix socket and
writes each as one line to OUT, for SECONDS at most.

    syslogd.py SOCKET OUT SECONDS
"""
import os
import socket
import sys
import time

PATH, OUT, SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])
if os.path.exists(PATH):
    os.unlink(PATH)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(PATH)
os.chmod(PATH, 0o666)
s.settimeout(0.1)
end = time.monotonic() + SECONDS
with open(OUT, "ab", buffering=0) as out:
    while time.monotonic() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        out.write(d.replace(b"\n", b" ").rstrip(b"\0") + b"\n")
s.close()
os.unlink(PATH)
