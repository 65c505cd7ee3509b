#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a command as if the disk were full: its file-size limit is 0 (RLIMIT_FSIZE, SIGXFSZ
ignored), so every write it makes to a regular file fails with EFBIG, as on a full disk, while
creating, reading and renaming files still work. Its standard output and error pass through pipes
and are written by this script as they come (a server's log line with its port shows at once),
so only the files the command itself writes are refused. The exit status is the command's
(128 + N for a signal).

  full_disk.py COMMAND [ARG...]
"""
import os
import resource
import signal
import subprocess
import sys
import threading


def no_room():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


if len(sys.argv) < 2:
    sys.exit(__doc__)
def relay(src, dst):
    while True:
        b = os.read(src.fileno(), 65536)
        if not b:
            return
        dst.write(b)
        dst.flush()


p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=no_room)
relays = [threading.Thread(target=relay, args=(p.stdout, sys.stdout.buffer)),
          threading.Thread(target=relay, args=(p.stderr, sys.stderr.buffer))]
for t in relays:
    t.start()
for t in relays:
    t.join()
p.wait()
sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)
