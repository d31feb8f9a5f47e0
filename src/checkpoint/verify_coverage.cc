#include "checkpoint/verify_coverage.h"

#include <set>
#include <string>

namespace stowage::checkpoint {
namespace {

using nlohmann::json;

// How a codec configuration guards the chunk bytes it stores.
enum class Guard {
  kChecksum,  // a checksum over the content: CRC-32C, CRC-32, Adler-32, XXH64
  kPerFrame,  // zstd: whatever each frame's header says
  kNone,
};

struct CodecGuard {
  Guard guard;
  std::string what;  // for kNone: what is stored unguarded
};

const CodecGuard kGuarded{Guard::kChecksum, ""};

std::string StringField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& Configuration(const json& codec) {
  static const json kEmpty = json::object();
  auto it = codec.find("configuration");
  return it != codec.end() && it->is_object() ? *it : kEmpty;
}

// A zarr v2 `compressor` (null: raw chunks). zlib ends each stream with an
// Adler-32 and gzip with a CRC-32 of the content; blosc and lz4 carry none.
CodecGuard Zarr2Guard(const json& compressor) {
  if (!compressor.is_object()) return {Guard::kNone, "uncompressed chunks"};
  std::string id = StringField(compressor, "id");
  if (id == "zstd") return {Guard::kPerFrame, "zstd frames without a content checksum"};
  if (id == "zlib" || id == "gzip") return kGuarded;
  return {Guard::kNone, id + " chunks (no checksum)"};
}

bool NamesCrc32c(const json& codecs) {
  if (!codecs.is_array()) return false;
  for (const auto& codec : codecs) {
    if (codec.is_object() && StringField(codec, "name") == "crc32c") return true;
  }
  return false;
}

// A zarr3 codec chain: guarded when one of its bytes-to-bytes codecs checks
// the content (crc32c, gzip, zstd with "checksum": true); a shard also needs
// its index guarded (crc32c among the index codecs).
CodecGuard Zarr3Guard(const json& codecs) {
  std::string what = "uncompressed chunks";
  if (!codecs.is_array()) return {Guard::kNone, what};
  for (const auto& codec : codecs) {
    if (!codec.is_object()) continue;
    std::string name = StringField(codec, "name");
    const json& config = Configuration(codec);
    if (name == "sharding_indexed") {
      CodecGuard inner = Zarr3Guard(config.value("codecs", json()));
      if (inner.guard != Guard::kChecksum) return inner;
      if (NamesCrc32c(config.value("index_codecs", json()))) return kGuarded;
      return {Guard::kNone, "shard indexes without crc32c"};
    }
    if (name == "crc32c" || name == "gzip") return kGuarded;
    if (name == "zstd") {
      if (config.value("checksum", json()) == json(true)) return kGuarded;
      what = "zstd frames without a content checksum";
    } else if (name == "blosc") {
      what = "blosc chunks (no checksum)";
    }
  }
  return {Guard::kNone, what};
}

// True when `head` starts a zstd frame whose header sets the
// Content_Checksum_flag (bit 2 of the frame header descriptor, RFC 8878).
bool FrameHasChecksum(const Bytes& head) {
  static constexpr unsigned char kMagic[] = {0x28, 0xb5, 0x2f, 0xfd};
  if (head.size() < 5) return false;
  for (int i = 0; i < 4; ++i) {
    if (std::to_integer<unsigned char>(head[i]) != kMagic[i]) return false;
  }
  return (std::to_integer<unsigned>(head[4]) & 0x04) != 0;
}

bool IsMetadataKey(std::string_view key) {
  for (std::string_view file : {"/.zarray", "/zarr.json", "/.zattrs", "/.zgroup"}) {
    if (key.ends_with(file)) return true;
  }
  return false;
}

// Collects the unguarded chunks of one leaf and the files holding them.
class UncoveredChunks {
 public:
  UncoveredChunks(std::string leaf, CodecGuard guard) : guard_(std::move(guard)) {
    found_.leaf = std::move(leaf);
    found_.why = guard_.what;
  }

  // Counts the chunk under `key` in `store`, held in `file`, unless its
  // codec guards it (for zstd: unless its frame carries a checksum, or it
  // cannot be read at all, which restoring it reports).
  void Consider(const kvstore::Store& store, const std::string& key, const std::string& file) {
    if (guard_.guard == Guard::kPerFrame) {
      auto head = store.ReadRange(key, 0, 5);
      if (!head.has_value() || FrameHasChecksum(*head)) return;
    }
    ++found_.chunks;
    files_.insert(file);
  }

  std::optional<UnverifiableLeaf> Result() && {
    if (found_.chunks == 0) return std::nullopt;
    found_.files.assign(files_.begin(), files_.end());
    return std::move(found_);
  }

 private:
  CodecGuard guard_;
  UnverifiableLeaf found_;
  std::set<std::string> files_;
};

}  // namespace

std::optional<UnverifiableLeaf> FindUncoveredChunks(const kvstore::Store& files,
                                                    const kvstore::OcdbtStore* ocdbt,
                                                    const LeafInfo& leaf) {
  bool zarr3 = leaf.storage_format.starts_with("zarr3");
  CodecGuard guard = zarr3 ? Zarr3Guard(leaf.compressor) : Zarr2Guard(leaf.compressor);
  if (guard.guard == Guard::kChecksum) return std::nullopt;
  UncoveredChunks chunks(leaf.name, guard);
  std::string prefix = leaf.name + "/";
  if (leaf.storage_format.ends_with(" in OCDBT")) {
    if (ocdbt == nullptr) return std::nullopt;
    auto entries = ocdbt->ListEntries(prefix);
    if (!entries.has_value()) return std::nullopt;  // verifying the database reports it
    for (const auto& entry : *entries) {
      // Inline values lie inside a B+tree node, which its CRC-32C covers.
      if (IsMetadataKey(entry.key) || entry.is_inline) continue;
      chunks.Consider(*ocdbt, entry.key, entry.data_file);
    }
  } else {
    auto keys = files.List(prefix);
    if (!keys.has_value()) return std::nullopt;
    for (const auto& key : *keys) {
      if (!IsMetadataKey(key)) chunks.Consider(files, key, key);
    }
  }
  return std::move(chunks).Result();
}

}  // namespace stowage::checkpoint
