// Resolves S3Options against the environment and the shared credentials
// file: endpoint, region, credentials.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "stowage/error.h"
#include "stowage/s3.h"

namespace stowage::kvstore::s3 {

// Looks up an environment variable (tests pass their own).
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment.
std::optional<std::string> ProcessEnv(const char* name);

// `text` without leading and trailing '/'.
std::string StripSlashes(std::string_view text);

// "http(s)://host[:port]" split; kInvalidArgument for other forms.
struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // host[:port], as sent in the Host header
};
Result<Endpoint> ParseEndpoint(std::string_view url);

// Everything a request needs, with the defaults filled in.
struct S3Config {
  Endpoint endpoint;
  std::string region;
  std::string bucket;
  std::string prefix;  // no leading or trailing '/'
  S3Addressing addressing = S3Addressing::kPathStyle;
  std::optional<S3Credentials> credentials;  // nullopt: anonymous
};

// Fills in `options`' defaults from `env` and the credentials file.
// kInvalidArgument names what is missing or malformed.
Result<S3Config> ResolveS3Config(const S3Options& options, const EnvLookup& env);

// The credentials of `profile` in the INI text of a shared credentials file
// (`path` is for messages). kNotFound when the profile is absent,
// kInvalidArgument when it lacks a key.
Result<S3Credentials> ParseCredentialsFile(std::string_view text, std::string_view profile,
                                           std::string_view path);

}  // namespace stowage::kvstore::s3
