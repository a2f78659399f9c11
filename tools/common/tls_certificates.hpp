// Certificates for private TLS redis-servers (the tool's demo and bench, and
// the tests), made at run time by the openssl command line.
#pragma once

#include <string>

namespace distkit::tools {

// The files make_server_certificates() writes into its directory.
inline constexpr const char* ca_certificate_file = "ca.crt";
inline constexpr const char* server_certificate_file = "server.crt";
inline constexpr const char* server_key_file = "server.key";

// Writes `directory`/`name`.key and `directory`/`name`.crt: a P-256 key and
// a certificate for `subject` (e.g. "/CN=localhost"), valid for two days,
// self-signed when `issuer` is empty, else signed by
// `directory`/`issuer`.crt and .key. A non-empty `extension` (e.g.
// "subjectAltName=DNS:localhost") is added to it. Runs openssl without a
// shell, its output silenced; throws std::runtime_error when it cannot be
// run or fails.
void make_certificate(const std::string& directory, const std::string& name,
                      const std::string& subject, const std::string& issuer = "",
                      const std::string& extension = "");

// Writes a CA (ca.crt, ca.key) and a server certificate it signed
// (server.crt, server.key) for DNS:localhost and IP:127.0.0.1 into
// `directory`, which should be private to the caller (the keys are
// unencrypted).
void make_server_certificates(const std::string& directory);

}  // namespace distkit::tools
