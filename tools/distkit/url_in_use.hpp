// The Redis URL a command uses, remembered so that failure messages can mask
// its credentials and tell a refused password or db from an outage.
#pragma once

#include <optional>
#include <string>

namespace distkit::tools {

// Records `url` as the one this process connects to. Not thread-safe: call
// it before starting threads.
void set_url_in_use(const std::string& url);

// `url` with the password (or, without a ':' in the user info, the whole
// user info) replaced by "***". Works on malformed URLs too.
std::string url_without_credentials(const std::string& url);

// `message` with every occurrence of the URL in use, and of its password,
// masked as url_without_credentials() does.
std::string without_credentials(std::string message);

// Asks the Redis of the URL in use, on a connection of its own, whether it
// accepts the URL's credentials and db. Returns why not ("Redis refused the
// URL's password: WRONGPASS ..."), or nullopt when it accepts them, cannot
// be reached, or no URL is in use. When the failure may be plain
// unreachability (`maybe_unreachable`: a connection failure that the client
// did not report as an authentication failure) and the URL has no password
// and no db, nothing could have been refused, and nothing is asked.
std::optional<std::string> why_redis_refuses_url_in_use(bool maybe_unreachable);

}  // namespace distkit::tools
