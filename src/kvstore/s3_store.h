// The S3 store over a shared client, so the stores of many prefixes of one
// bucket share its connections and its limit on requests in flight.
#pragma once

#include <memory>
#include <string_view>

#include "kvstore/s3_client.h"
#include "stowage/s3.h"

namespace stowage::kvstore::s3 {

// A store on the objects under `prefix` (no leading or trailing '/') of
// `client`'s bucket; `options` gives its part sizes and parallelism.
Result<std::unique_ptr<Store>> OpenS3StoreOn(std::shared_ptr<S3Client> client,
                                             std::string_view prefix, const S3Options& options);

}  // namespace stowage::kvstore::s3
