// The OCDBT data structures and their binary codecs (TensorStore's
// tensorstore/kvstore/ocdbt/format/; tensorstore-formats.md C4-C9):
// configuration, data file tables, references, manifests, version-tree
// nodes and B+tree nodes. Decoders treat their input as hostile and report
// every violation as kDataLoss naming the file.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "stowage/error.h"

namespace stowage::kvstore::ocdbt {

inline constexpr std::size_t kMaxKeyLength = 65535;
inline constexpr std::size_t kMaxPathLength = 65535;
inline constexpr std::uint64_t kMaxNodeArity = 1048576;
inline constexpr std::uint64_t kMaxInlineValueLength = 1048576;

enum class ManifestKind : std::uint8_t { kSingle = 0, kNumbered = 1 };

struct Config {
  std::array<std::uint8_t, 16> uuid{};
  ManifestKind manifest_kind = ManifestKind::kSingle;
  std::uint32_t max_inline_value_bytes = 100;
  std::uint32_t max_decoded_node_bytes = 8388608;
  std::uint8_t version_tree_arity_log2 = 4;
  std::optional<std::int32_t> zstd_level = 0;  // nullopt: objects uncompressed

  friend bool operator==(const Config&, const Config&) = default;
};

// A file of the database: base_path + relative_path, relative to its root.
struct DataFileId {
  std::string base_path;
  std::string relative_path;

  std::string FullPath() const { return base_path + relative_path; }
  friend auto operator<=>(const DataFileId&, const DataFileId&) = default;
};

// Bytes [offset, offset + length) of a data file.
struct IndirectRef {
  DataFileId file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;

  // The "empty tree" root sentinel.
  static IndirectRef Missing() {
    return {
        {}, std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::uint64_t>::max()};
  }
  bool IsMissing() const {
    return offset == std::numeric_limits<std::uint64_t>::max() &&
           length == std::numeric_limits<std::uint64_t>::max();
  }
  friend bool operator==(const IndirectRef&, const IndirectRef&) = default;
};

struct BtreeStatistics {
  std::uint64_t num_keys = 0;
  std::uint64_t num_tree_bytes = 0;
  std::uint64_t num_indirect_value_bytes = 0;

  // Adds `other`, saturating at 2^64 - 1 as TensorStore does.
  BtreeStatistics& operator+=(const BtreeStatistics& other);
  friend bool operator==(const BtreeStatistics&, const BtreeStatistics&) = default;
};

struct BtreeNodeRef {
  IndirectRef location;
  BtreeStatistics statistics;
  friend bool operator==(const BtreeNodeRef&, const BtreeNodeRef&) = default;
};

// One generation of the B+tree.
struct Version {
  std::uint64_t generation = 0;
  std::uint8_t root_height = 0;
  BtreeNodeRef root;
  std::uint64_t commit_time = 0;  // ns since the Unix epoch
  friend bool operator==(const Version&, const Version&) = default;
};

// A reference to a version-tree node covering older generations.
struct VersionNodeRef {
  std::uint64_t generation = 0;  // the latest generation below it
  IndirectRef location;
  std::uint64_t num_generations = 0;
  std::uint64_t commit_time = 0;  // the earliest commit time below it
  std::uint8_t height = 0;
  friend bool operator==(const VersionNodeRef&, const VersionNodeRef&) = default;
};

struct Manifest {
  Config config;
  std::vector<Version> versions;  // inline versions, latest last
  std::vector<VersionNodeRef> version_tree_nodes;

  const Version& latest() const { return versions.back(); }
};

// A leaf value: the bytes (inline) or where they are.
using ValueRef = std::variant<Bytes, IndirectRef>;

struct LeafEntry {
  std::string key;  // relative to the node's implicit prefix
  ValueRef value;
};

struct InteriorEntry {
  std::string key;  // relative to the node's implicit prefix
  std::uint64_t subtree_common_prefix_length = 0;
  BtreeNodeRef child;
};

struct BtreeNode {
  std::uint8_t height = 0;
  std::vector<LeafEntry> leaves;        // height 0
  std::vector<InteriorEntry> children;  // height > 0
};

struct VersionNode {
  std::uint8_t version_tree_arity_log2 = 4;
  std::uint8_t height = 0;
  std::vector<Version> versions;         // height 0
  std::vector<VersionNodeRef> children;  // height > 0
};

// Largest decoded object (manifest or node) a reader accepts.
inline constexpr std::size_t kMaxDecodedObjectBytes = std::size_t{256} << 20;

Result<Bytes> EncodeManifest(const Manifest& manifest);
// Errors: kDataLoss naming `path`.
Result<Manifest> DecodeManifest(std::span<const std::byte> encoded, std::string_view path);

// Encodes `node` with `config`'s compression.
Result<Bytes> EncodeBtreeNode(const Config& config, const BtreeNode& node);
// `base_path` is the transitive base path of the reference that led here; it
// is prepended to every file in the node's table. Errors: kDataLoss.
Result<BtreeNode> DecodeBtreeNode(std::span<const std::byte> encoded, std::string_view base_path,
                                  std::string_view path);

Result<Bytes> EncodeVersionNode(const Config& config, const VersionNode& node);
Result<VersionNode> DecodeVersionNode(std::span<const std::byte> encoded,
                                      std::string_view base_path, std::string_view path);

}  // namespace stowage::kvstore::ocdbt
