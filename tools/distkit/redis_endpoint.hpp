// Where a redis:// URL points, in the pieces hiredis and redis-benchmark
// take.
#pragma once

#include <string>
#include <vector>

namespace distkit::tools {

struct RedisEndpoint {
  std::string host;
  int port = 6379;
  std::string user;      // empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  int db = 0;

  // redis://[[user]:password@]host[:port][/db], parsed by the library's
  // parser. Throws distkit::Error{Errc::invalid_argument} when the URL is not
  // of that form or its db does not fit an int.
  static RedisEndpoint parse(const std::string& url);

  // The connection options of redis-cli and redis-benchmark for it.
  std::vector<std::string> command_line_options() const;
};

}  // namespace distkit::tools
