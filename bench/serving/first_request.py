#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""First-request latency of ccz serve: first_request.py CCZ MODEL KEY BODY RUNS

Starts `ccz serve --model cnn=MODEL --key KEY --rest 127.0.0.1:PORT` RUNS times and, from the
moment it is started, sends the :predict request BODY (a file) until one is answered 200
(connecting every 0.5 ms until the port opens): the time from exec to that answer covers process
start, reading the key, decrypting the protected file, loading and checking the model, binding,
and the first inference. Prints the min and median in ms, the server's CPU time up to the answer
(steadier than wall time on a shared machine) and ccz's own load time."""
import os
import re
import socket
import statistics
import subprocess
import sys
import time

ccz, model, key, body_file, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
body = open(body_file, "rb").read()
req = (b"POST /v1/models/cnn:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)) + body


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


times, loads, cpu = [], [], []
for _ in range(runs):
    port = free_port()
    t0 = time.monotonic()
    p = subprocess.Popen([ccz, "serve", "--model", "cnn=" + model, "--key", key, "--rest",
                          "127.0.0.1:%d" % port], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    while True:
        try:
            c = socket.create_connection(("127.0.0.1", port))
        except OSError:
            if p.poll() is not None:
                sys.exit("ccz serve exited: " + p.stderr.read().decode())
            time.sleep(0.0005)
            continue
        c.sendall(req)
        answer = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            answer += b
        c.close()
        if answer.startswith(b"HTTP/1.1 200"):
            break
        sys.exit("not answered 200: %r" % answer[:200])
    times.append((time.monotonic() - t0) * 1e3)
    with open("/proc/%d/stat" % p.pid) as f:  # the server's CPU time so far (user + system)
        fields = f.read().rsplit(")", 1)[1].split()
    cpu.append((int(fields[11]) + int(fields[12])) * 1e3 / os.sysconf("SC_CLK_TCK"))
    p.terminate()
    err = p.communicate(timeout=10)[1].decode()
    m = re.search(r"loaded in (\d+) ms", err)
    loads.append(int(m.group(1)) if m else -1)
print("first request after start: min %.1f ms, median %.1f ms wall over %d starts; the server's CPU "
      "time to it: min %.0f ms, median %.0f ms (model load as ccz reports it: median %d ms)" % (
          min(times), statistics.median(times), runs, min(cpu), statistics.median(cpu),
          statistics.median(loads)))
