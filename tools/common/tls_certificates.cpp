#include "tls_certificates.hpp"

#include <stdexcept>
#include <vector>

#include "child_process.hpp"

namespace distkit::tools {
namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const int exit_code = wait_for_exit(spawn(argv, ChildOutput::silence).pid);
  if (exit_code == 127) throw std::runtime_error("openssl could not be run (is it installed?)");
  if (exit_code != 0) {
    throw std::runtime_error("openssl " + args.front() + " failed (exit code " +
                             std::to_string(exit_code) + ")");
  }
}

}  // namespace

void make_certificate(const std::string& directory, const std::string& name,
                      const std::string& subject, const std::string& issuer,
                      const std::string& extension) {
  const auto file = [&directory](const std::string& base, const char* suffix) {
    return directory + "/" + base + suffix;
  };
  std::vector<std::string> request{
      "req",     "-newkey",          "ec",    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", file(name, ".key"), "-subj", subject};
  if (!extension.empty()) request.insert(request.end(), {"-addext", extension});
  if (issuer.empty()) {
    request.insert(request.end(), {"-x509", "-days", "2", "-out", file(name, ".crt")});
    openssl(request);
    return;
  }
  request.insert(request.end(), {"-out", file(name, ".csr")});
  openssl(request);
  openssl({"x509", "-req", "-in", file(name, ".csr"), "-CA", file(issuer, ".crt"), "-CAkey",
           file(issuer, ".key"), "-CAcreateserial", "-days", "2", "-copy_extensions", "copy",
           "-out", file(name, ".crt")});
}

void make_server_certificates(const std::string& directory) {
  make_certificate(directory, "ca", "/CN=distkit private CA");
  make_certificate(directory, "server", "/CN=localhost", "ca",
                   "subjectAltName=DNS:localhost,IP:127.0.0.1");
}

}  // namespace distkit::tools
