#!/bin/sh
# certs.sh: makes the TLS test certificates with the openssl command, fresh at every test run.
# Usage: tests/lib/certs.sh DIR
# Writes into DIR (P-256 keys, SHA-256 signatures):
#   ca.pem                      a self-signed test CA (not in any system bundle)
#   server.pem server.key       signed by the CA for IP:127.0.0.1 and DNS:localhost, valid now
#   expired.pem expired.key     signed by the CA for the same names, expired in 2021
#   wrongname.pem wrongname.key signed by the CA for DNS:wrong.example only, valid now
#   other-ca.pem                a second CA that signed nothing here
set -eu

dir=${1:?usage: certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

newkey() { # file
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

selfsigned_ca() { # name cn
    newkey "$1.key"
    openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

selfsigned_ca ca "volley test ca"
selfsigned_ca other-ca "volley other ca"

# `openssl ca` is the one subcommand that takes explicit validity dates (for the expired one).
mkdir -p ca.db
: >ca.db/index.txt
echo 1000 >ca.db/serial
cat >ca.cnf <<'EOF'
[ca]
default_ca = test_ca
[test_ca]
dir = .
database = ca.db/index.txt
serial = ca.db/serial
new_certs_dir = ca.db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any_policy
unique_subject = no
copy_extensions = none
email_in_dn = no
[any_policy]
commonName = supplied
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[wrong_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
EOF

leaf() { # name cn extensions startdate enddate
    newkey "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    openssl ca -batch -config ca.cnf -extensions "$3" -startdate "$4" -enddate "$5" \
        -in "$1.csr" -out "$1.pem" -notext >/dev/null 2>&1
    rm -f "$1.csr"
}

now_minus_day=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
in_30_days=$(date -u -d '30 days' +%Y%m%d%H%M%SZ)
leaf server 127.0.0.1 server_ext "$now_minus_day" "$in_30_days"
leaf expired 127.0.0.1 server_ext 20200101000000Z 20210101000000Z
leaf wrongname wrong.example wrong_ext "$now_minus_day" "$in_30_days"

for f in ca.pem server.pem server.key expired.pem wrongname.pem other-ca.pem; do
    [ -s "$f" ] || {
        echo "certs.sh: $dir/$f was not made" >&2
        exit 1
    }
done
