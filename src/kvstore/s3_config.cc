#include "kvstore/s3_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace stowage::kvstore::s3 {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<std::string> NonEmpty(const EnvLookup& env, const char* name) {
  auto value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

Result<S3Credentials> CredentialsFromFile(const S3Options& options, const EnvLookup& env) {
  std::string path;
  if (auto file = NonEmpty(env, "AWS_SHARED_CREDENTIALS_FILE")) {
    path = *file;
  } else if (auto home = NonEmpty(env, "HOME")) {
    path = *home + "/.aws/credentials";
  } else {
    return InvalidArgumentError(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or HOME for ~/.aws/credentials");
  }
  std::string profile = options.profile;
  if (profile.empty()) profile = NonEmpty(env, "AWS_PROFILE").value_or("default");
  std::ifstream in(path);
  if (!in) {
    return InvalidArgumentError("no S3 credentials: AWS_ACCESS_KEY_ID is unset and " + path +
                                " cannot be read");
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseCredentialsFile(text.str(), profile, path);
}

Result<std::optional<S3Credentials>> ResolveCredentials(const S3Options& options,
                                                        const EnvLookup& env) {
  if (options.anonymous) return std::optional<S3Credentials>();
  if (options.credentials) return options.credentials;
  auto id = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  auto secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    return std::optional(
        S3Credentials{*id, *secret, NonEmpty(env, "AWS_SESSION_TOKEN").value_or("")});
  }
  STOWAGE_ASSIGN_OR_RETURN(auto credentials, CredentialsFromFile(options, env));
  return std::optional(std::move(credentials));
}

}  // namespace

std::string StripSlashes(std::string_view text) {
  while (text.starts_with('/')) text.remove_prefix(1);
  while (text.ends_with('/')) text.remove_suffix(1);
  return std::string(text);
}

std::optional<std::string> ProcessEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<Endpoint> ParseEndpoint(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid S3 endpoint \"" + std::string(url) +
                                "\": " + std::string(why));
  };
  std::size_t colon = url.find("://");
  if (colon == std::string_view::npos) return bad("expected http://host[:port] or https://...");
  Endpoint endpoint{std::string(url.substr(0, colon)), ""};
  if (endpoint.scheme != "http" && endpoint.scheme != "https") return bad("scheme not http(s)");
  std::string_view rest = url.substr(colon + 3);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty()) return bad("no host");
  if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return bad("only scheme, host and port are supported");
  }
  endpoint.host = std::string(rest);
  return endpoint;
}

Result<S3Credentials> ParseCredentialsFile(std::string_view text, std::string_view profile,
                                           std::string_view path) {
  std::string section;
  bool found = false;
  S3Credentials credentials;
  std::istringstream lines{std::string(text)};
  for (std::string raw; std::getline(lines, raw);) {
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(Trim(line.substr(1, line.size() - 2)));
      if (section == profile) found = true;
      continue;
    }
    std::size_t equals = line.find('=');
    if (section != profile || equals == std::string_view::npos) continue;
    std::string_view name = Trim(line.substr(0, equals));
    std::string value(Trim(line.substr(equals + 1)));
    if (name == "aws_access_key_id") credentials.access_key_id = value;
    if (name == "aws_secret_access_key") credentials.secret_access_key = value;
    if (name == "aws_session_token") credentials.session_token = value;
  }
  std::string where = std::string(path) + " [" + std::string(profile) + "]";
  if (!found) return NotFoundError("no S3 credentials: " + where + " does not exist");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidArgumentError("S3 credentials " + where +
                                " lack aws_access_key_id or aws_secret_access_key");
  }
  return credentials;
}

Result<S3Config> ResolveS3Config(const S3Options& options, const EnvLookup& env) {
  S3Config config;
  config.bucket = options.bucket;
  if (config.bucket.empty() || config.bucket.find('/') != std::string::npos) {
    return InvalidArgumentError("invalid S3 bucket name \"" + config.bucket + "\"");
  }
  config.prefix = StripSlashes(options.prefix);
  config.addressing = options.addressing;
  config.region = options.region;
  if (config.region.empty()) config.region = NonEmpty(env, "AWS_REGION").value_or("");
  if (config.region.empty()) config.region = NonEmpty(env, "AWS_DEFAULT_REGION").value_or("");
  if (config.region.empty()) config.region = "us-east-1";
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) endpoint = NonEmpty(env, "AWS_ENDPOINT_URL_S3").value_or("");
  if (endpoint.empty()) endpoint = NonEmpty(env, "AWS_ENDPOINT_URL").value_or("");
  if (endpoint.empty()) endpoint = "https://s3." + config.region + ".amazonaws.com";
  STOWAGE_ASSIGN_OR_RETURN(config.endpoint, ParseEndpoint(endpoint));
  STOWAGE_ASSIGN_OR_RETURN(config.credentials, ResolveCredentials(options, env));
  return config;
}

}  // namespace stowage::kvstore::s3

namespace stowage::kvstore {

Result<S3Url> ParseS3Url(std::string_view url) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) {
    return InvalidArgumentError("invalid S3 URL \"" + std::string(url) +
                                "\": expected s3://bucket/prefix");
  }
  std::string_view rest = url.substr(kScheme.size());
  std::size_t slash = rest.find('/');
  S3Url parsed;
  parsed.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) parsed.prefix = s3::StripSlashes(rest.substr(slash));
  if (parsed.bucket.empty()) {
    return InvalidArgumentError("invalid S3 URL \"" + std::string(url) + "\": no bucket name");
  }
  return parsed;
}

}  // namespace stowage::kvstore
