# SPDX-License-Identifier: Apache-2.0
# Writes the seed corpus of fuzz/fuzz_cca_token.c: python3 fuzz/gen_cca_seeds.py fuzz/corpus/cca_token
# (CBOR built here by hand: collections of both tags, COSE_Sign1 messages with made-up
# signatures, platform and realm claims of each profile, and broken framings).
import os, sys
def head(m, n):
    if n < 24: return bytes([m<<5|n])
    for ai, l in ((24,1),(25,2),(26,4),(27,8)):
        if n < (1 << (8*l)): return bytes([m<<5|ai]) + n.to_bytes(l,'big')
def uint(n): return head(0,n) if n>=0 else head(1,-1-n)
def bstr(b): return head(2,len(b))+b
def tstr(s): s=s.encode(); return head(3,len(s))+s
def arr(*xs): return head(4,len(xs))+b''.join(xs)
def mp(*kv): return head(5,len(kv)//2)+b''.join(kv)
def tag(t,x): return head(6,t)+x
def sign1(alg, payload, sig): return tag(18, arr(bstr(mp(uint(1),uint(alg))), mp(), bstr(payload), bstr(sig)))
sw = arr(mp(uint(1),tstr("BL"),uint(2),bstr(b'\x11'*32),uint(5),bstr(b'\x22'*32),uint(4),tstr("1.0"),uint(6),tstr("sha-256")))
plat = mp(uint(265),tstr("tag:arm.com,2023:cca_platform#1.0.0"),uint(10),bstr(b'\x33'*32),uint(2396),bstr(b'\x44'*32),
          uint(256),bstr(b'\x01'+b'\x55'*32),uint(2401),bstr(b'\xcf'*4),uint(2395),uint(0x3003),uint(2399),sw,
          uint(2400),tstr("https://example"),uint(2402),tstr("sha-256"))
cose_key = mp(uint(1),uint(2),uint(-1),uint(2),uint(-2),bstr(b'\x66'*48),uint(-3),bstr(b'\x77'*48))
realm = lambda prof, rak: mp(*( ([uint(265),tstr(prof)] if prof else []) + [uint(10),bstr(b'\xab'*64),uint(44235),bstr(b'\x00'*64),
          uint(44236),tstr("sha-256"),uint(44237),bstr(rak),uint(44238),bstr(b'\x88'*32),
          uint(44239),arr(*[bstr(b'\x99'*32)]*4),uint(44240),tstr("sha-256")]))
P = sign1(-35, plat, b'\x01'*96)
Rl = sign1(-35, realm(None, b'\x04'+b'\x66'*96), b'\x02'*96)
R1 = sign1(-35, realm("tag:arm.com,2023:realm#1.0.0", cose_key), b'\x02'*96)
seeds = {
 "tag399-empty": tag(399, mp(uint(44234),bstr(b''),uint(44241),bstr(b''))),
 "tag907-empty": tag(907, mp(uint(44234),arr(uint(263),bstr(b'')),uint(44241),arr(uint(263),bstr(b'')))),
 "tag399-legacy": tag(399, mp(uint(44234),bstr(P),uint(44241),bstr(Rl))),
 "tag399-realm1": tag(399, mp(uint(44234),bstr(P),uint(44241),bstr(R1))),
 "tag907-realm1": tag(907, mp(uint(44234),arr(uint(263),bstr(P)),uint(44241),arr(uint(263),bstr(R1)))),
 "cose-sign1": P,
 "cose-sign1-es256": sign1(-7, b'\xa0', b'\x00'*64),
 "extra-key": tag(399, mp(uint(44234),bstr(P),uint(44241),bstr(Rl),uint(1),bstr(b''))),
 "nested": tag(399, mp(uint(44234), b'\x81'*40 + b'\x00', uint(44241), bstr(b''))),
 "huge-count": tag(399, bytes([0xbb]) + b'\xff'*8),
}
d = sys.argv[1]
for k, v in seeds.items(): open(os.path.join(d, k), 'wb').write(v)
