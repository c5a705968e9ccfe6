#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A daemon that dies in the handshake, over and over: listens on a Unix
socket, closes every connection as soon as it is accepted, and after
SECONDS removes the socket and prints how many it closed.

    hangup.py PATH SECONDS
"""
import os
import socket
import sys
import time

PATH = sys.argv[1]
SECONDS = float(sys.argv[2])

if os.path.exists(PATH):
    os.unlink(PATH)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(PATH)
s.listen(16)
s.settimeout(0.05)
end = time.monotonic() + SECONDS
closed = 0
while time.monotonic() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.close()
    closed += 1
s.close()
os.unlink(PATH)
print(closed, flush=True)
