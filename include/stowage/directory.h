// stowage layer: kvstore
//
// Directories by name: every API that takes a checkpoint directory accepts a
// local path or an object-store URL "s3://bucket/prefix". A URL opens an S3
// store (s3.h) with the options set by SetS3Defaults, whose bucket and prefix
// come from the URL; the stores of one bucket share one connection pool.
#pragma once

#include <filesystem>
#include <memory>

#include "stowage/kvstore.h"
#include "stowage/s3.h"

namespace stowage::kvstore {

// True when `dir` is an object-store URL ("s3://...") rather than a local
// path.
bool IsObjectStoreUrl(const std::filesystem::path& dir);

// The options every later-opened s3:// directory uses (endpoint, region,
// credentials, limits); bucket and prefix are ignored. Unset: S3Options{},
// whose defaults come from the AWS_* environment variables.
void SetS3Defaults(S3Options options);

// The store whose keys are the files under `dir`. For a local path, a file
// store with `options`; for a URL, an S3 store. Errors: kInvalidArgument (a
// malformed URL, no credentials).
Result<std::shared_ptr<Store>> OpenDirectory(const std::filesystem::path& dir,
                                             FileStoreOptions options = {});

// True when `dir` exists: a local directory, or a URL under which at least
// one object lives. Errors: kIo (the store cannot be reached).
Result<bool> DirectoryExists(const std::filesystem::path& dir);

// Removes `dir` and everything under it; succeeds when it is absent.
Status RemoveDirectory(const std::filesystem::path& dir);

// `dir` without a trailing separator; local paths are also lexically
// normalised (URLs keep their "s3://").
std::filesystem::path NormalizeDirectory(const std::filesystem::path& dir);

}  // namespace stowage::kvstore
