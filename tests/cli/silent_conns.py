#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Silent connections against a server's caps: silent_conns.py PORT SRC... [--hold SECONDS]

Opens one TCP connection to 127.0.0.1:PORT from each source address SRC, in order, and sends
nothing. Once the server has closed one of them (or 3 s have passed) it prints, on one line and
in the same order, "closed" or "open" for each (each still open one given 0.2 s more to close),
then holds them all open for --hold seconds (default 0) before it exits."""
import select
import socket
import sys
import time


def main():
    args = sys.argv[1:]
    hold = 0.0
    if "--hold" in args:
        i = args.index("--hold")
        hold = float(args[i + 1])
        del args[i : i + 2]
    port, sources = int(args[0]), args[1:]
    conns = []
    for src in sources:
        c = socket.socket()
        c.bind((src, 0))
        c.connect(("127.0.0.1", port))
        conns.append(c)
    select.select(conns, [], [], 3)  # the first close (or nothing) within 3 s
    states = []
    for c in conns:
        c.settimeout(0.2)
        try:
            states.append("closed" if c.recv(1) == b"" else "open")
        except socket.timeout:
            states.append("open")
        except OSError:
            states.append("closed")
    print(" ".join(states), flush=True)
    time.sleep(hold)


if __name__ == "__main__":
    main()
