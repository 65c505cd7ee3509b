#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a command as if the disk were full: its file-size limit is 0 (RLIMIT_FSIZE, SIGXFSZ
ignored), so every write it makes to a regular file fails with EFBIG, as on a full disk, while
creating, reading and renaming files still work. Its standard output and error pass through pipes
and are written by this script, so only the files the command itself writes are refused. The
exit status is the command's (128 + N for a signal).

  full_disk.py COMMAND [ARG...]
"""
import resource
import signal
import subprocess
import sys


def no_room():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


if len(sys.argv) < 2:
    sys.exit(__doc__)
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=no_room)
out, err = p.communicate()
sys.stdout.buffer.write(out)
sys.stderr.buffer.write(err)
sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)
