#!/bin/sh
# make_test_certs.sh DIR - certificates for the TLS tests, made with the
# openssl command line program:
#   ca.pem, ca.key          a test certificate authority (ECDSA P-256)
#   server.pem, server.key  a server certificate for "localhost",
#                           "mx.hikyaku.test" and 127.0.0.1 (RSA 2048),
#                           signed by the test CA
#   server-ec.pem, server-ec.key  the same names, ECDSA P-256, signed by the CA
#   server-chain.pem        server.key followed by server.pem and ca.pem
#                           (the smtpd_tls_chain_files form)
#   selfsigned.pem, selfsigned.key  a self-signed certificate for "localhost"
#   client.pem, client.key  a client certificate signed by the test CA
# Keys (and server-chain.pem) are unencrypted, mode 0600; certificates 0644. Valid for 365 days from now.
set -eu
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 022
openssl=${OPENSSL:-openssl}

cat > ext.cnf <<'CNF'
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:mx.hikyaku.test, IP:127.0.0.1
# testssl.sh counts a certificate without CRL or OCSP as a HIGH finding.
crlDistributionPoints = URI:http://127.0.0.1/hikyaku-test-ca.crl
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

quiet() { "$@" > openssl.log 2>&1 || { cat openssl.log >&2; exit 1; }; }

quiet "$openssl" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 365 -subj "/O=hikyaku test/CN=hikyaku test CA" \
	-config ext.cnf -extensions ca
sign() { # sign NAME SUBJECT EXTENSIONS KEYOPTIONS...
	name=$1 subject=$2 extensions=$3
	shift 3
	quiet "$openssl" req -new -nodes "$@" -keyout "$name.key" -out "$name.csr" \
		-subj "$subject"
	quiet "$openssl" x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days 365 -out "$name.pem" -extfile ext.cnf \
		-extensions "$extensions"
	rm -f "$name.csr"
}
sign server "/O=hikyaku test/CN=localhost" server -newkey rsa:2048
sign server-ec "/O=hikyaku test/CN=localhost" server -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256
sign client "/O=hikyaku test/CN=client.test" client -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256
cat server.key server.pem ca.pem > server-chain.pem
quiet "$openssl" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout selfsigned.key -out selfsigned.pem -days 365 \
	-subj "/O=hikyaku test/CN=localhost" -addext "subjectAltName=DNS:localhost"
chmod 600 ./*.key server-chain.pem
rm -f openssl.log ca.srl
