// Directories by name: local paths through the file store, s3:// URLs
// through S3 stores sharing one client per bucket.
#include "stowage/directory.h"

#include <map>
#include <mutex>

#include "kvstore/file_ops.h"
#include "kvstore/s3_config.h"
#include "kvstore/s3_store.h"

namespace stowage::kvstore {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kS3Scheme = "s3://";

// The defaults of SetS3Defaults and the clients opened so far, by bucket.
struct S3Registry {
  std::mutex mutex;
  S3Options defaults;
  std::map<std::string, std::shared_ptr<s3::S3Client>> clients;
};

S3Registry& Registry() {
  static S3Registry registry;
  return registry;
}

// The options for `bucket` and the shared client of that bucket.
Result<std::pair<S3Options, std::shared_ptr<s3::S3Client>>> ClientFor(const std::string& bucket) {
  S3Registry& registry = Registry();
  std::lock_guard lock(registry.mutex);
  S3Options options = registry.defaults;
  options.bucket = bucket;
  options.prefix.clear();
  auto& client = registry.clients[bucket];
  if (!client) {
    auto config = s3::ResolveS3Config(options, s3::ProcessEnv);
    if (!config) {
      registry.clients.erase(bucket);
      return config.error();
    }
    client = std::make_shared<s3::S3Client>(std::move(*config), options);
  }
  return std::make_pair(options, client);
}

Result<std::shared_ptr<Store>> OpenS3Directory(const fs::path& dir) {
  STOWAGE_ASSIGN_OR_RETURN(S3Url url, ParseS3Url(dir.string()));
  STOWAGE_ASSIGN_OR_RETURN(auto opened, ClientFor(url.bucket));
  STOWAGE_ASSIGN_OR_RETURN(auto store, s3::OpenS3StoreOn(opened.second, url.prefix, opened.first));
  return std::shared_ptr<Store>(std::move(store));
}

}  // namespace

bool IsObjectStoreUrl(const fs::path& dir) { return dir.native().starts_with(kS3Scheme); }

void SetS3Defaults(S3Options options) {
  S3Registry& registry = Registry();
  std::lock_guard lock(registry.mutex);
  registry.defaults = std::move(options);
  registry.clients.clear();  // stores already open keep their clients
}

Result<std::shared_ptr<Store>> OpenDirectory(const fs::path& dir, FileStoreOptions options) {
  if (IsObjectStoreUrl(dir)) return OpenS3Directory(dir);
  return std::shared_ptr<Store>(OpenFileStore(dir, options));
}

Result<bool> DirectoryExists(const fs::path& dir) {
  if (!IsObjectStoreUrl(dir)) {
    std::error_code ec;
    return fs::is_directory(dir, ec);
  }
  STOWAGE_ASSIGN_OR_RETURN(auto store, OpenS3Directory(dir));
  STOWAGE_ASSIGN_OR_RETURN(auto children, store->ListChildren(""));
  return !children.empty();
}

Status RemoveDirectory(const fs::path& dir) {
  if (!IsObjectStoreUrl(dir)) return RemoveAll(dir);
  STOWAGE_ASSIGN_OR_RETURN(auto store, OpenS3Directory(dir));
  return store->DeleteAll("");
}

fs::path NormalizeDirectory(const fs::path& dir) {
  if (IsObjectStoreUrl(dir)) {
    std::string text = dir.string();
    while (text.size() > kS3Scheme.size() && text.ends_with('/')) text.pop_back();
    return text;
  }
  fs::path normal = dir.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) {
    normal = normal.parent_path();
  }
  return normal;
}

}  // namespace stowage::kvstore
