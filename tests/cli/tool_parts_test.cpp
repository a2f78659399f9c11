// The tool's pure pieces: the count grammar, the JSON encoding of arbitrary
// bytes, credential masking, and the chart script that must never carry a
// path as gnuplot code.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "command_inputs.hpp"
#include "json.hpp"
#include "throughput_chart.hpp"
#include "url_in_use.hpp"

namespace distkit::tools {
namespace {

TEST(CanonicalInt64, AcceptsExactlyTheCanonicalForm) {
  EXPECT_EQ(parse_canonical_int64("0"), 0);
  EXPECT_EQ(parse_canonical_int64("7"), 7);
  EXPECT_EQ(parse_canonical_int64("-7"), -7);
  EXPECT_EQ(parse_canonical_int64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_canonical_int64("-9223372036854775808"), INT64_MIN);
  for (const char* text : {"", "-", "+1", "-0", "00", "010", "0x1", "1e3", " 1", "1 ", "1.0",
                           "9223372036854775808", "-9223372036854775809"}) {
    EXPECT_EQ(parse_canonical_int64(text), std::nullopt) << text;
  }
  // Round trip: every int64 printed by std::to_string is accepted as itself.
  std::mt19937_64 random(42);
  for (int i = 0; i < 10000; ++i) {
    const auto value = static_cast<std::int64_t>(random());
    EXPECT_EQ(parse_canonical_int64(std::to_string(value)), value);
  }
}

// What a JSON parser would give back for the value of `member` in `object`,
// for the strings this encoder produces (escapes \" \\ \n \r \t \u00XX).
std::string decode_json_string(std::string_view literal) {
  std::string out;
  for (std::size_t i = 1; i + 1 < literal.size(); ++i) {
    if (literal[i] != '\\') {
      out += literal[i];
      continue;
    }
    const char escape = literal[++i];
    if (escape == 'n')
      out += '\n';
    else if (escape == 'r')
      out += '\r';
    else if (escape == 't')
      out += '\t';
    else if (escape == 'u') {
      out += static_cast<char>(std::stoi(std::string(literal.substr(i + 1, 4)), nullptr, 16));
      i += 4;
    } else
      out += escape;
  }
  return out;
}

TEST(JsonBytes, Utf8IsAStringAndAnythingElseIsBase64) {
  EXPECT_EQ(JsonObject().add_bytes("key", "caf\xc3\xa9").str(), "{\"key\":\"caf\xc3\xa9\"}");
  EXPECT_EQ(JsonObject().add_bytes("key", "").str(), R"({"key":""})");
  EXPECT_EQ(JsonObject().add_bytes("key", std::string("a\0b", 3)).str(), R"({"key":"a\u0000b"})");
  EXPECT_EQ(JsonObject().add_bytes("key", "\xff").str(), R"({"key_base64":"/w=="})");
  EXPECT_EQ(JsonObject().add_bytes("key", "\xff\xfe").str(), R"({"key_base64":"//4="})");
  EXPECT_EQ(JsonObject().add_bytes("key", "\xff\xfe\xfd").str(), R"({"key_base64":"//79"})");
  for (const char* invalid : {"\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xed\xbf\xbf",
                              "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xc3", "\xe2\x82"}) {
    EXPECT_FALSE(is_valid_utf8(invalid)) << testing::PrintToString(invalid);
  }
  for (const char* valid : {"\x7f", "\xc2\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xf0\x90\x80\x80",
                            "\xf4\x8f\xbf\xbf", "\xef\xbf\xbd"}) {
    EXPECT_TRUE(is_valid_utf8(valid)) << testing::PrintToString(valid);
  }
}

TEST(JsonBytes, DistinctKeysNeverPrintAlikeAndDecodeToThemselves) {
  // Every key of up to two bytes, and random longer ones.
  std::vector<std::string> keys;
  for (int a = 0; a < 256; ++a) {
    keys.emplace_back(1, static_cast<char>(a));
    for (int b = 0; b < 256; ++b) keys.push_back({static_cast<char>(a), static_cast<char>(b)});
  }
  std::mt19937 random(7);
  for (int i = 0; i < 20000; ++i) {
    std::string key(1 + random() % 6, '\0');
    for (char& c : key)
      c = static_cast<char>(random() % 4 == 0 ? 0x80 + random() % 0x80 : random());
    keys.push_back(key);
  }
  std::set<std::string> printed;
  for (const std::string& key : keys) {
    const std::string json = JsonObject().add_bytes("key", key).str();
    printed.insert(json);
    if (json.starts_with(R"({"key":)")) {
      EXPECT_EQ(decode_json_string(std::string_view(json).substr(7, json.size() - 8)), key);
    }
    // Only printable ASCII, or valid UTF-8 from a valid key.
    EXPECT_TRUE(is_valid_utf8(json));
  }
  std::set<std::string> distinct(keys.begin(), keys.end());
  EXPECT_EQ(printed.size(), distinct.size());
}

TEST(UrlCredentials, AreMaskedEvenInMalformedUrls) {
  EXPECT_EQ(url_without_credentials("redis://u:pw@h:1/2"), "redis://u:***@h:1/2");
  EXPECT_EQ(url_without_credentials("redis://:pw@h"), "redis://:***@h");
  EXPECT_EQ(url_without_credentials("redis://pw@h"), "redis://***@h");
  EXPECT_EQ(url_without_credentials("redis://u:p@w@h:1:3"), "redis://u:***@h:1:3");
  EXPECT_EQ(url_without_credentials("redis://h:1/a@b"), "redis://h:1/a@b");
  EXPECT_EQ(url_without_credentials("not a url"), "not a url");

  set_url_in_use("redis://user:hunter2secret@h:1:3");
  EXPECT_EQ(without_credentials("bad URL 'redis://user:hunter2secret@h:1:3': port"),
            "bad URL 'redis://user:***@h:1:3': port");
  EXPECT_EQ(without_credentials("password hunter2secret rejected"), "password *** rejected");
  set_url_in_use("");
}

TEST(ThroughputChart, ADirectoryNameIsNeverGnuplotCode) {
  // Quotes, newlines and gnuplot's two ways to run a shell command in the
  // directory's name.
  const std::filesystem::path base = testing::TempDir() + "chart-" + std::to_string(getpid());
  const std::filesystem::path hostile = base / "out'\n!touch pwned\nsystem('touch pwned') '\"";
  std::filesystem::create_directories(hostile);
  std::vector<BenchResult> results(2);
  results[0].concurrent_callers = 1;
  results[0].distkit = 100;
  results[1].concurrent_callers = 4;
  results[1].distkit = 300;
  const std::string script = throughput_chart_script(results);
  EXPECT_EQ(script.find("pwned"), std::string::npos);
  std::ofstream(hostile / throughput_chart_script_file) << script;
  const std::string failure = run_gnuplot(hostile.string());
  if (failure.find("127") != std::string::npos) GTEST_SKIP() << "gnuplot is not installed";
  EXPECT_EQ(failure, "");
  EXPECT_TRUE(std::filesystem::exists(hostile / throughput_chart_file));
  for (const auto& entry : std::filesystem::recursive_directory_iterator(base)) {
    EXPECT_NE(entry.path().filename(), "pwned") << entry.path();
  }
  EXPECT_FALSE(std::filesystem::exists("pwned"));
  std::filesystem::remove_all(base);
}

}  // namespace
}  // namespace distkit::tools
