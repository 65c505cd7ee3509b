#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A server out of descriptors: busy_accept.py PORT PID COUNT

Opens COUNT connections to 127.0.0.1:PORT that send nothing (more than the server, under a low
open-file limit, has descriptors for: the rest wait in its backlog while accept() fails), waits
0.5 s, then prints the CPU time (user + system, in milliseconds) that process PID used in the
next second and, after a space, how many of them it had accepted (its open sockets, the
listener's not counted), and closes them all. A server that retries accept() at once spins a
core: about 1000; one that pauses between tries uses next to nothing."""
import os
import socket
import sys
import time


def cpu_ms(pid):
    # /proc/PID/stat: the fields after the command's closing parenthesis; utime and stime are
    # the 12th and 13th of them, in clock ticks
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 // os.sysconf("SC_CLK_TCK")


def main():
    port, pid, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    time.sleep(0.5)
    before = cpu_ms(pid)
    time.sleep(1.0)
    used = cpu_ms(pid) - before
    sockets = sum(1 for fd in os.listdir(f"/proc/{pid}/fd")
                  if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"))
    print(used, sockets - 1)
    for c in conns:
        c.close()


main()
