# SPDX-License-Identifier: Apache-2.0
"""A program written for python-paillier, as its documentation shows the library used:
keys, encryption, arithmetic on encrypted numbers, a keyring, the documented JSON
serialisation. test_phe_program.py runs it with only its import line changed (phe -> ccz)
and compares what it prints with
what python-paillier printed for the same ciphertexts (the fixtures) and with exact results.

    phe_program.py FIXTURES_DIR
"""
import base64
import json
import sys

from phe import paillier

fixtures = sys.argv[1]


def b64_to_int(s):
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


# python-paillier's key (pheutil's JWK) and the numbers it serialised (docs/serialisation.rst)
with open(fixtures + "/pheutil-priv.jwk") as f:
    jwk = json.load(f)
public_key = paillier.PaillierPublicKey(n=b64_to_int(jwk["pub"]["n"]))
private_key = paillier.PaillierPrivateKey(public_key, b64_to_int(jwk["p"]), b64_to_int(jwk["q"]))
with open(fixtures + "/phe-basic.json") as f:
    received = json.load(f)
pk = paillier.PaillierPublicKey(n=int(received["public_key"]["n"]))
enc_nums = [paillier.EncryptedNumber(pk, int(x[0]), int(x[1])) for x in received["values"]]
for x in enc_nums:
    print(private_key.decrypt(x))

# the same computations python-paillier made for the fixtures
a, b = public_key.encrypt(1234567), public_key.encrypt(-7654321)
print(private_key.decrypt(a + b))
print(private_key.decrypt(a * -3))
x = public_key.encrypt(1.5)
print(private_key.decrypt(x * -2.25 + 0.125))

# a fresh key pair of the default size, and the README's operations
public_key, private_key = paillier.generate_paillier_keypair()
secret_number_list = [3.141592653, 300, -4.6e-12]
encrypted_number_list = [public_key.encrypt(x) for x in secret_number_list]
print([private_key.decrypt(x) for x in encrypted_number_list])
a, b, c = encrypted_number_list
print(private_key.decrypt(a + 5), private_key.decrypt(a - 1), private_key.decrypt(a + b))
print(private_key.decrypt(b * 3.5), private_key.decrypt(b / 8), private_key.decrypt(c * 2))
print(private_key.decrypt(sum([b, b, b])))
print(public_key.encrypt(42).exponent, public_key.encrypt(0.5).exponent)

# a keyring
keyring = paillier.PaillierPrivateKeyring()
keyring.add(private_key)
public_key2, private_key2 = paillier.generate_paillier_keypair(keyring, n_length=1024)
print(keyring.decrypt(public_key.encrypt(7)), keyring.decrypt(public_key2.encrypt(-8)), len(keyring))

# the documented serialisation, and a computation on the received numbers
enc_with_one_pub_key = {}
enc_with_one_pub_key["public_key"] = {"g": public_key.g, "n": public_key.n}
enc_with_one_pub_key["values"] = [(str(x.ciphertext()), x.exponent) for x in [b, c]]
serialised = json.dumps(enc_with_one_pub_key)
received_dict = json.loads(serialised)
pk = received_dict["public_key"]
public_key_rec = paillier.PaillierPublicKey(n=int(pk["n"]))
enc_nums_rec = [paillier.EncryptedNumber(public_key_rec, int(x[0]), int(x[1]))
                for x in received_dict["values"]]
print(private_key.decrypt(enc_nums_rec[0] * 2 + enc_nums_rec[1]))
try:
    public_key.encrypt(public_key.max_int + 1)
except ValueError:
    print("ValueError")
try:
    m = public_key.encrypt(public_key.max_int)
    private_key.decrypt(m + m)
except OverflowError:
    print("OverflowError")
