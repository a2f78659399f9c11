#include "client/url.hpp"

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

constexpr std::uint16_t redis_port = 6379;
constexpr std::uint16_t sentinel_port = 26379;
constexpr std::string_view scheme_names =
    "redis, rediss, unix, redis-sentinel, rediss-sentinel, redis-cluster or rediss-cluster";

struct SchemeName {
  std::string_view name;
  UrlScheme scheme;
};
constexpr std::array<SchemeName, 7> schemes{{{"redis", UrlScheme::redis},
                                             {"rediss", UrlScheme::rediss},
                                             {"unix", UrlScheme::unix_socket},
                                             {"redis-sentinel", UrlScheme::redis_sentinel},
                                             {"rediss-sentinel", UrlScheme::rediss_sentinel},
                                             {"redis-cluster", UrlScheme::redis_cluster},
                                             {"rediss-cluster", UrlScheme::rediss_cluster}}};

// Parses one URL; every rejection names the part that is wrong.
class UrlParser {
 public:
  explicit UrlParser(std::string_view url) : url_(url) {}

  RedisUrl parse() {
    const auto scheme_end = url_.find("://");
    if (scheme_end == std::string_view::npos) {
      reject("expected <scheme>://..., with scheme " + std::string(scheme_names));
    }
    result_.scheme = scheme(url_.substr(0, scheme_end));
    switch (result_.scheme) {
      case UrlScheme::redis:
      case UrlScheme::rediss:
        parse_server(uri(url_));
        break;
      case UrlScheme::unix_socket:
        parse_unix(uri(url_));
        break;
      case UrlScheme::redis_sentinel:
      case UrlScheme::rediss_sentinel:
        parse_sentinel(scheme_end + 3);
        break;
      case UrlScheme::redis_cluster:
      case UrlScheme::rediss_cluster:
        parse_cluster(scheme_end + 3);
        break;
    }
    return std::move(result_);
  }

 private:
  [[noreturn]] void reject(std::string_view why) const {
    throw Error(Errc::invalid_argument,
                "malformed Redis URL '" + redact_url(url_) + "': " + std::string(why));
  }

  UrlScheme scheme(std::string_view name) const {
    for (const auto& known : schemes) {
      if (known.name == name) return known.scheme;
    }
    reject("unknown scheme '" + std::string(name) + "': expected " + std::string(scheme_names));
  }

  boost::urls::url_view uri(std::string_view text) const {
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) reject("not a valid URI (" + parsed.error().message() + ")");
    return *parsed;
  }

  // A decimal without sign or leading zeros that fits `Int`.
  template <class Int>
  static bool canonical_decimal(std::string_view text, Int& out) {
    if (text.empty() || (text.size() > 1 && text.front() == '0')) return false;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
    }
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end;
  }

  std::uint16_t port(std::string_view text) const {
    std::uint32_t value = 0;
    if (!canonical_decimal(text, value) || value == 0 || value > 65535) {
      reject("the port '" + std::string(text) + "' is not a number in 1..65535");
    }
    return static_cast<std::uint16_t>(value);
  }

  std::int64_t db(std::string_view text) const {
    std::int32_t value = 0;
    if (!canonical_decimal(text, value)) {
      reject("the database '" + std::string(text) + "' is not a non-negative decimal number");
    }
    return value;
  }

  HostPort host_port(const boost::urls::url_view& uri, std::uint16_t default_port) const {
    HostPort result{uri.host_address(), default_port};
    if (uri.host_type() == boost::urls::host_type::ipvfuture) reject("unsupported host address");
    if (result.host.empty()) reject("the host is missing");
    // Boost.URL stops the port at its last digit; whatever follows before
    // a '/' (":3" in host:6379:3) still belongs to what the user wrote as
    // the port.
    const std::string_view path = uri.encoded_path();
    if (!path.empty() && path.front() != '/') {
      reject("the port '" + std::string(uri.port()) + std::string(path) +
             "' is not a number in 1..65535");
    }
    if (uri.has_port()) result.port = port(uri.port());
    return result;
  }

  Credentials credentials(const boost::urls::url_view& uri) const {
    Credentials result;
    if (!uri.has_userinfo()) return result;
    std::string user = uri.user();
    if (!uri.has_password()) {
      reject("the user information needs a password: [[user]:password@]host");
    }
    result.password = uri.password();
    if (!user.empty()) result.user = std::move(user);
    return result;
  }

  // The path after host[:port]: empty, "/" or "/<db>".
  void path_db(const boost::urls::url_view& uri) {
    const std::string_view path = uri.encoded_path();
    if (path.empty() || path == "/") return;
    result_.db = db(path.substr(1));
  }

  void no_query(const boost::urls::url_view& uri) const {
    if (uri.has_query()) reject("a query ('?...') is not allowed with this scheme");
  }

  void parse_server(const boost::urls::url_view& uri) {
    no_query(uri);
    if (uri.has_fragment()) reject("a fragment ('#...') is not allowed with this scheme");
    result_.hosts.push_back(host_port(uri, redis_port));
    result_.credentials = credentials(uri);
    path_db(uri);
  }

  void parse_unix(const boost::urls::url_view& uri) {
    if (!uri.has_authority() || !uri.encoded_authority().empty()) {
      reject("expected unix:///absolute/path/to/socket, with nothing between '//' and the path");
    }
    if (uri.has_fragment()) reject("a fragment ('#...') is not allowed with unix://");
    result_.socket_path = uri.path();
    if (result_.socket_path.size() < 2) reject("the socket path is missing");
    bool seen_db = false;
    for (const auto& param : uri.params()) {
      if (!param.has_value) reject("the query option '" + param.key + "' has no value");
      auto once = [&](bool already) {
        if (already) reject("the query option '" + param.key + "' is given twice");
      };
      if (param.key == "db") {
        once(seen_db);
        seen_db = true;
        result_.db = db(param.value);
      } else if (param.key == "user") {
        once(result_.credentials.user.has_value());
        result_.credentials.user = param.value;
      } else if (param.key == "password") {
        once(result_.credentials.password.has_value());
        result_.credentials.password = param.value;
      } else {
        reject("unknown query option '" + param.key + "' (expected db, user or password)");
      }
    }
    if (result_.credentials.user && !result_.credentials.password) {
      reject("the query option user needs password");
    }
  }

  // The host list "h1:p1,h2:p2" of the sentinel and cluster schemes is no
  // RFC 3986 authority, so it is cut out and parsed entry by entry; the rest
  // is parsed as a URI around a placeholder host.
  boost::urls::url_view parse_host_list(std::size_t authority_begin, std::uint16_t default_port,
                                        std::string_view what) {
    const auto authority_end = std::min(url_.find_first_of("/?#", authority_begin), url_.size());
    const std::string_view authority =
        url_.substr(authority_begin, authority_end - authority_begin);
    const auto at = authority.rfind('@');
    const std::string_view userinfo =
        at == std::string_view::npos ? std::string_view() : authority.substr(0, at + 1);
    std::string_view list = at == std::string_view::npos ? authority : authority.substr(at + 1);
    while (true) {
      const auto comma = list.find(',');
      listed_host(list.substr(0, comma), default_port, what);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }

    rest_ = "redis://";
    rest_ += userinfo;
    rest_ += "placeholder";
    rest_ += url_.substr(authority_end);
    const boost::urls::url_view uri = this->uri(rest_);
    result_.credentials = credentials(uri);
    path_db(uri);
    return uri;
  }

  void parse_sentinel(std::size_t authority_begin) {
    const boost::urls::url_view uri = parse_host_list(authority_begin, sentinel_port, "sentinel");
    if (!uri.has_fragment() || uri.fragment().empty()) {
      reject("the master name is missing: add #<master name> as Sentinel knows it");
    }
    result_.master_name = uri.fragment();
    for (const auto& param : uri.params()) {
      if (!param.has_value) reject("the query option '" + param.key + "' has no value");
      std::optional<std::string>* slot = nullptr;
      if (param.key == "sentinel_user") slot = &result_.sentinel_credentials.user;
      if (param.key == "sentinel_password") slot = &result_.sentinel_credentials.password;
      if (slot == nullptr) {
        reject("unknown query option '" + param.key +
               "' (expected sentinel_user or sentinel_password)");
      }
      if (slot->has_value()) reject("the query option '" + param.key + "' is given twice");
      *slot = param.value;
    }
    if (result_.sentinel_credentials.user && !result_.sentinel_credentials.password) {
      reject("the query option sentinel_user needs sentinel_password");
    }
  }

  // Redis Cluster has only database 0.
  void parse_cluster(std::size_t authority_begin) {
    const boost::urls::url_view uri = parse_host_list(authority_begin, redis_port, "seed node");
    no_query(uri);
    if (uri.has_fragment()) reject("a fragment ('#...') is not allowed with this scheme");
    if (result_.db != 0) reject("Redis Cluster has only database 0");
  }

  void listed_host(std::string_view entry, std::uint16_t default_port, std::string_view what) {
    if (entry.empty()) reject("a " + std::string(what) + " address in the host list is empty");
    auto parsed = boost::urls::parse_authority(entry);
    if (!parsed || parsed->has_userinfo()) {
      reject("the " + std::string(what) + " address '" + std::string(entry) +
             "' is not host[:port]");
    }
    HostPort result{parsed->host_address(), default_port};
    if (result.host.empty()) reject("a " + std::string(what) + " address has no host");
    if (parsed->has_port()) result.port = port(parsed->port());
    result_.hosts.push_back(std::move(result));
  }

  std::string_view url_;
  std::string rest_;  // what parse_host_list hands to the URI parser; views point into it
  RedisUrl result_;
};

}  // namespace

RedisUrl parse_redis_url(std::string_view url) {
  return UrlParser(url).parse();
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  const auto scheme_end = out.find("://");
  const std::size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  // The last '@' ends the userinfo even when a password holds a raw '@'
  // (or, in a malformed URL, a '/'): redacting too much is the safe side.
  const auto at = out.rfind('@');
  if (at != std::string::npos && at >= start) {
    const auto colon = out.find(':', start);
    const std::size_t secret = colon != std::string::npos && colon < at ? colon + 1 : start;
    out.replace(secret, at - secret, "***");
  }
  // Query values are hidden too, except those known not to be secret.
  constexpr std::array<std::string_view, 3> public_options{"db", "user", "sentinel_user"};
  for (auto option = out.find('?'); option != std::string::npos;) {
    const std::size_t name_begin = option + 1;
    auto end = out.find_first_of("&#", name_begin);
    const auto equals = out.find('=', name_begin);
    if (equals != std::string::npos && equals < end) {
      const std::string_view name(out.data() + name_begin, equals - name_begin);
      if (std::find(public_options.begin(), public_options.end(), name) == public_options.end()) {
        out.replace(equals + 1, std::min(end, out.size()) - equals - 1, "***");
        end = out.find_first_of("&#", equals + 1);
      }
    }
    if (end == std::string::npos || out[end] == '#') break;
    option = end;
  }
  return out;
}

}  // namespace distkit::detail
