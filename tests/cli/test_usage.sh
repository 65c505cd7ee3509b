#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The checks each command makes of its command line before it listens, connects or reads a
# file, one refusal each (exit 2, the message on stderr): above all that no party of a
# solution (PSI, federated learning, encrypted LR, encrypted lookup) runs with --mode client,
# in which it would send its data to a server it has not attested, and that hetero-lr runs
# two-way only; then the model server's option pairs, and the commands' required options.
. "$(dirname "$0")/lib.sh"
touch "$T/data.csv" "$T/m.csv"

# a party never sends its data to a server it has not attested
refused psi serve --listen 127.0.0.1:0 --parties 2 --mode client -- \
    "--mode client: the parties must attest the server (use two-way or server)"
refused psi join 127.0.0.1:1 --name a --data "$T/data.csv" --mode client -- \
    "--mode client: a party must attest the server (use two-way or server)"
refused fl homo-lr serve --listen 127.0.0.1:0 --workers 2 --iterations 1 --test "$T/data.csv" \
    --mode client -- "--mode client: the workers must attest the server (use two-way or server)"
refused fl homo-lr work 127.0.0.1:1 --data "$T/data.csv" --id 0 --mode client -- \
    "--mode client: a worker must attest the server (use two-way or server)"
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --mode client -- \
    "--mode client: the clients must attest the aggregator (use two-way or server)"
refused fl join 127.0.0.1:1 --data "$T/data.csv" --name a --mode client -- \
    "--mode client: a client must attest the aggregator (use two-way or server)"
refused he lr serve --model "$T/m.csv" --listen 127.0.0.1:0 --mode client -- \
    "--mode client: the clients must attest the server (use server or two-way)"
refused he query serve --db "$T/data.csv" --listen 127.0.0.1:0 --mode client -- \
    "--mode client: the client must attest the server (use two-way or server)"
refused he query lookup 127.0.0.1:1 --key k --mode client -- \
    "--mode client: the client must attest the server (use two-way or server)"
for side in arbiter; do
    for mode in server client; do
        refused fl hetero-lr $side --listen 127.0.0.1:0 --hosts 1 --epochs 1 --mode $mode -- \
            "--mode: hetero-lr runs two-way RA-TLS only (every party attested)"
    done
done
for side in guest host; do
    for mode in server client; do
        refused fl hetero-lr $side 127.0.0.1:1 --data "$T/data.csv" --id 0 --mode $mode -- \
            "--mode: hetero-lr runs two-way RA-TLS only (every party attested)"
    done
done

# horizontal FL's own values
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 3 --clients-per-round 2 -- \
    "--clients-per-round 2 is below --min-clients 3"
# as many per round as the minimum is taken (the command stops at the missing --tee instead)
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 2 --clients-per-round 2 -- \
    "fl serve: --tee is required"
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --model cnn -- "--model: mlp or lr"
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --strategy fedsgd -- "--strategy:"
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --model lr --model mlp -- \
    "--model: mlp or lr"
refused fl join 127.0.0.1:1 --data "$T/data.csv" --name a --model lr --model lr -- "--model: mlp or lr"
# an option that would do nothing: --mu without FedProx, --hidden without a hidden layer
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --mu 0.1 -- \
    "--mu is FedProx's proximal weight: give it with --strategy fedprox"
for s in fedavg fedadam; do
    refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --strategy $s --mu 0.1 -- \
        "--mu is FedProx's proximal weight: give it with --strategy fedprox"
done
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --strategy fedprox --mu 0.1 -- \
    "fl serve: --tee is required"
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --model lr --hidden 32 -- \
    "--hidden is the MLP's hidden layer: --model lr has none"
for shard in 2/2 1/0 x 0/2:0 0/2:-1 0/2:x " 0/2" "0/ 2" +0/2 0/+2 -0/2; do
    refused fl join 127.0.0.1:1 --data "$T/data.csv" --name a --shard "$shard" -- \
        "--shard: I/N with I < N (then :ALPHA > 0 for non-IID), not '$shard'"
done
for shard in 0/4097 0/2:1000000 0/2x 0/2:0.5x 0/2:; do
    refused fl join 127.0.0.1:1 --data "$T/data.csv" --name a --shard "$shard" -- \
        "--shard: I/N with I < N (then :ALPHA > 0 for non-IID), not '$shard'"
done
# the largest N and ALPHA are taken (the data file is refused next)
for shard in 0/4096 4095/4096 0/2:999999 0/2:0.5; do
    refused fl join 127.0.0.1:1 --data "$T/data.csv" --name a --shard "$shard" -- \
        "fl join: $T/data.csv: an IDX images file is named ...images-idx3..., its labels"
done
refused he query lookup 127.0.0.1:1 --key "" -- "--key: the key is empty"
refused he query lookup 127.0.0.1:1 --key k --cert "$T/c.pem" -- "--cert and --cert-key go together"
refused he query serve --db "$T/data.csv" --listen 127.0.0.1:0 --cert-key "$T/k.pem" -- \
    "--cert and --cert-key go together"
refused he query lookup 127.0.0.1:1 --key k --algorithm rot13 -- "--algorithm:"

# the model server's options that go together or exclude each other
M="lr=$T/m.onnx"
refused serve --rest 127.0.0.1:0 -- "no --model NAME=PATH given"
refused serve --model "$M" -- "give --rest ADDR, --grpc ADDR or both"
refused serve --model "$M" --rest 127.0.0.1:0 extra -- "unexpected argument 'extra'"
refused serve --model "$M" --rest 127.0.0.1:0 --key "$T/k" --secret-server 127.0.0.1:1 --tee sim -- \
    "--key and --secret-server exclude each other"
refused serve --model "$M" --rest 127.0.0.1:0 --secret-ca "$T/ca.pem" -- \
    "--secret-ca goes with --secret-server"
refused serve --model "$M" --rest 127.0.0.1:0 --secret-server 127.0.0.1:1 --tee sim \
    --secret-ca "$T/ca.pem" --policy "$T/p.json" -- \
    "give --policy (to appraise the secret server's RA-TLS certificate) or --secret-ca, not both"
refused serve --model "$M" --rest 127.0.0.1:0 --cert "$T/c.pem" -- "--cert and --cert-key go together"
refused serve --model "$M" --rest 127.0.0.1:0 --cert-key "$T/k.pem" -- "--cert and --cert-key go together"
refused serve --model "$M" --rest 127.0.0.1:0 --cert "$T/c.pem" --cert-key "$T/k.pem" --tee sim -- \
    "--cert and --tee exclude each other"
refused serve --model "$M" --rest 127.0.0.1:0 --secret-server 127.0.0.1:1 -- \
    "--secret-server needs --tee: the secret server releases keys to attested clients"
refused serve --model "$M" --grpc 0.0.0.0:0 -- \
    "without --tee or --cert the listeners are plaintext, allowed on loopback only (127.0.0.1:PORT)"
# loopback is 127.0.0.0/8, localhost or [::1]: not an address that merely begins alike
for addr in 128.0.0.1:0 12.0.0.1:0 localhostile.example:0; do
    refused serve --model "$M" --rest "$addr" -- \
        "without --tee or --cert the listeners are plaintext, allowed on loopback only"
done
# a protected file's key is 16 bytes, no more
head -c 17 /dev/zero > "$T/k17"
refused serve --model "$M" --rest 127.0.0.1:0 --key "$T/k17" -- \
    "serve: --key: $T/k17 holds 17 bytes; a protected file's key is 16"
for bad in "=$T/m.onnx" "lr=" "lr"; do
    refused serve --model "$bad" --rest 127.0.0.1:0 -- "--model takes NAME=PATH[:VERSION] ('$bad')"
done
refused serve --model "lr=$T/m.onnx:0" --rest 127.0.0.1:0 -- \
    "--model lr=$T/m.onnx:0: the version must be 1 or more"
refused serve --model "lr=:3" --rest 127.0.0.1:0 -- "--model lr=:3: no path, or one too long"

# each command's required options
refused psi serve --listen 127.0.0.1:0 -- "usage: ccz psi serve --listen ADDR --parties N"
refused psi join 127.0.0.1:1 --name a -- "usage: ccz psi join HOST:PORT --name NAME --data FILE"
refused fl homo-lr serve --listen 127.0.0.1:0 --workers 2 --iterations 1 -- \
    "usage: ccz fl homo-lr serve --listen ADDR --workers N --iterations K --test FILE"
refused fl homo-lr work 127.0.0.1:1 --data "$T/data.csv" -- \
    "usage: ccz fl homo-lr work HOST:PORT --data FILE --id N"
refused fl hetero-lr split --data "$T/data.csv" -- \
    "usage: ccz fl hetero-lr split --data SKLEARN_CSV --out DIR"
refused fl hetero-lr arbiter --listen 127.0.0.1:0 --hosts 1 -- \
    "usage: ccz fl hetero-lr arbiter --listen ADDR --hosts N --epochs K"
refused fl hetero-lr guest 127.0.0.1:1 --data "$T/data.csv" -- \
    "usage: ccz fl hetero-lr guest HOST:PORT --data FILE --id N"
refused fl serve --listen 127.0.0.1:0 --rounds 1 -- \
    "usage: ccz fl serve --listen ADDR --rounds R --min-clients K"
refused fl join 127.0.0.1:1 --data "$T/data.csv" -- "usage: ccz fl join HOST:PORT --data IMAGES --name NAME"
refused fl join 127.0.0.1:1 --name a -- "usage: ccz fl join HOST:PORT --data IMAGES --name NAME"
refused fl hetero-lr arbiter --listen 127.0.0.1:0 --epochs 1 -- \
    "usage: ccz fl hetero-lr arbiter --listen ADDR --hosts N --epochs K"
refused fl hetero-lr arbiter --hosts 1 --epochs 1 -- \
    "usage: ccz fl hetero-lr arbiter --listen ADDR --hosts N --epochs K"
refused fl serve --rounds 1 --min-clients 1 -- "usage: ccz fl serve --listen ADDR --rounds R --min-clients K"
refused fl homo-lr serve --listen 127.0.0.1:0 --iterations 1 --test "$T/data.csv" -- \
    "usage: ccz fl homo-lr serve --listen ADDR --workers N --iterations K --test FILE"
refused fl homo-lr serve --listen 127.0.0.1:0 --workers 2 --test "$T/data.csv" -- \
    "usage: ccz fl homo-lr serve --listen ADDR --workers N --iterations K --test FILE"
refused fl homo-lr serve --workers 2 --iterations 1 --test "$T/data.csv" -- \
    "usage: ccz fl homo-lr serve --listen ADDR --workers N --iterations K --test FILE"
# one HOST:PORT for a party, none for a server
refused fl homo-lr work --data "$T/data.csv" --id 1 -- "usage: ccz fl homo-lr work HOST:PORT"
refused fl homo-lr work 127.0.0.1:1 127.0.0.1:2 --data "$T/data.csv" --id 1 -- \
    "usage: ccz fl homo-lr work HOST:PORT"
refused fl hetero-lr host 127.0.0.1:1 127.0.0.1:2 --data "$T/data.csv" --id 1 -- \
    "usage: ccz fl hetero-lr host HOST:PORT --data FILE --id N"
refused fl join 127.0.0.1:1 127.0.0.1:2 --data "$T/data.csv" --name a -- "usage: ccz fl join HOST:PORT"
refused fl homo-lr serve --listen 127.0.0.1:0 --workers 2 --iterations 1 --test "$T/data.csv" extra -- \
    "usage: ccz fl homo-lr serve --listen ADDR"
refused fl hetero-lr split --data "$T/data.csv" --out "$T" extra -- "usage: ccz fl hetero-lr split"
refused fl hetero-lr arbiter --listen 127.0.0.1:0 --hosts 1 --epochs 1 extra -- \
    "usage: ccz fl hetero-lr arbiter"
refused fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 1 extra -- "usage: ccz fl serve"
refused he query serve --listen 127.0.0.1:0 -- "usage: ccz he query serve --db FILE.csv --listen ADDR"
refused he query lookup 127.0.0.1:1 -- "usage: ccz he query lookup HOST:PORT --key KEY"
refused he lr infer 127.0.0.1:1 -- "usage: ccz he lr infer HOST:PORT --data FILE.csv"
refused rpc greeter serve -- "usage: ccz rpc greeter serve --listen ADDR"
refused rpc greeter call 127.0.0.1:1 -- "usage: ccz rpc greeter call HOST:PORT --name NAME"
refused rpc greeter call 127.0.0.1:1 127.0.0.1:2 --name x -- "usage: ccz rpc greeter call HOST:PORT --name NAME"
# and no argument beyond the ones they take
refused psi serve --listen 127.0.0.1:0 --parties 2 extra -- "usage: ccz psi serve --listen ADDR --parties N"
refused psi join 127.0.0.1:1 extra --name a --data "$T/data.csv" -- \
    "usage: ccz psi join HOST:PORT --name NAME --data FILE"
refused psi join 127.0.0.1:1 --data "$T/data.csv" -- "usage: ccz psi join HOST:PORT --name NAME --data FILE"
refused he query serve --db "$T/data.csv" --listen 127.0.0.1:0 extra -- \
    "usage: ccz he query serve --db FILE.csv --listen ADDR"
refused he query lookup 127.0.0.1:1 extra --key k -- "usage: ccz he query lookup HOST:PORT --key KEY"
refused he query -- "usage: ccz he query serve|lookup ..."
# a group without a word for its commands answers an unknown one with its usage line
refused rpc greeter frobnicate -- "usage: ccz rpc greeter serve|call ..."
refused he query frobnicate -- "usage: ccz he query serve|lookup ..."
finish
