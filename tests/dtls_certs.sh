#!/usr/bin/env bash
# dtls_certs.sh DIR: makes the DTLS tests' keys and certificates in DIR with
# the openssl command line (nothing of this is committed). EC P-256 keys.
#   ca.pem ca.key            test CA "Petrel Test CA" (with its CRL: ca_crl.pem
#                            is ca.pem followed by the CRL)
#   server.pem server.key    CN=localhost, SAN DNS:localhost, signed by ca
#   client.pem client.key    CN=client, signed by ca
#   revoked.pem revoked.key  CN=revoked, signed by ca, then revoked
#   expired.pem expired.key  CN=expired, signed by ca, valid in 2020 only
#   other_ca.pem             another CA; rogue.pem rogue.key (CN=localhost)
#                            is signed by it
#   self.pem self.key        self-signed, CN=localhost
#   *.der                    DER forms of ca, server and server.key (PKCS#8)
set -euo pipefail
dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# A minimal CA configuration for `openssl ca` (dates, revocation, CRLs).
ca_conf() { # NAME
  mkdir -p "$1.db"
  : >"$1.db/index.txt"
  echo 1000 >"$1.db/serial"
  echo 1000 >"$1.db/crlnumber"
  cat >"$1.cnf" <<CNF
[ca]
default_ca = this
[this]
dir = $1.db
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $1.pem
private_key = $1.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyAgreement
CNF
}

make_ca() { # NAME CN
  key "$1.key"
  openssl req -new -x509 -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  ca_conf "$1"
}

sign() { # CA NAME CN [SAN] [openssl ca date options...]
  local ca=$1 name=$2 cn=$3 san=${4:-}
  shift 4 || shift $#
  key "$name.key"
  if [ -n "$san" ]; then
    openssl req -new -key "$name.key" -subj "/CN=$cn" -addext "subjectAltName=$san" \
      -out "$name.csr" 2>/dev/null
  else
    openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
  fi
  openssl ca -batch -config "$ca.cnf" -extensions leaf -in "$name.csr" \
    -out "$name.pem" -notext "$@" 2>/dev/null
}

make_ca ca "Petrel Test CA"
sign ca server localhost "DNS:localhost"
sign ca client client ""
sign ca revoked revoked ""
sign ca expired expired "" -startdate 20200101000000Z -enddate 20200201000000Z
openssl ca -config ca.cnf -revoke revoked.pem 2>/dev/null
openssl ca -config ca.cnf -gencrl -out ca.crl 2>/dev/null
cat ca.pem ca.crl >ca_crl.pem
make_ca other_ca "Other CA"
sign other_ca rogue localhost "DNS:localhost"
key self.key
openssl req -new -x509 -key self.key -out self.pem -days 30 -subj "/CN=localhost" 2>/dev/null
openssl x509 -in ca.pem -outform DER -out ca.der
openssl x509 -in server.pem -outform DER -out server.der
openssl pkcs8 -topk8 -nocrypt -in server.key -outform DER -out server.key.der
echo "certificates in $dir"
