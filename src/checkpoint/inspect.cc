#include "stowage/inspect.h"

#include <algorithm>

#include "base/bytes.h"
#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/dir_ops.h"
#include "checkpoint/inspect_internal.h"
#include "checkpoint/layout.h"
#include "stowage/directory.h"

namespace stowage {
namespace fs = std::filesystem;

namespace checkpoint::inspect {

std::uint64_t DirectoryBytes(const fs::path& dir, std::uint64_t* files) {
  auto store = kvstore::OpenDirectory(dir);
  if (!store.has_value()) return 0;
  return (*store)->BytesUnder("", files).value_or(0);
}

namespace {

// The length of the valid UTF-8 character at `text[i]`, or 0 when the bytes
// there are not one (overlong forms and surrogates included).
std::size_t Utf8CharLength(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = lead >= 0xC2 && lead <= 0xDF   ? 2
                       : lead >= 0xE0 && lead <= 0xEF ? 3
                       : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                      : 0;
  if (length == 0 || i + length > text.size()) return 0;
  unsigned char low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
  unsigned char high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

std::string CutUtf8(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = Utf8CharLength(text, i);
    if (out.size() + std::max<std::size_t>(length, 1) > max_bytes) break;
    if (length == 0) {
      out += '?';
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

Result<std::string> ReadFileHead(const fs::path& path, std::uint64_t max_bytes,
                                 std::uint64_t* size) {
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(path.parent_path()));
  std::string name = path.filename().string();
  STOWAGE_ASSIGN_OR_RETURN(*size, store->Size(name));
  STOWAGE_ASSIGN_OR_RETURN(Bytes head, store->ReadRange(name, 0, std::min(*size, max_bytes)));
  return std::string(AsStringView(head));
}

}  // namespace checkpoint::inspect

namespace {

void ReadCheckpointMetadataInto(const fs::path& dir, CheckpointInfo& info) {
  // Absent or unreadable: the fields stay empty; inspect reports what it can.
  auto parsed = checkpoint::ReadCheckpointMetadata(dir);
  if (!parsed.has_value()) return;
  info.item_handlers = parsed->item_handlers;
  info.init_timestamp_nsecs = parsed->init_timestamp_nsecs;
  info.commit_timestamp_nsecs = parsed->commit_timestamp_nsecs;
  info.custom_metadata = parsed->custom_metadata;
}

}  // namespace

Result<CheckpointInfo> InspectCheckpoint(const fs::path& directory) {
  STOWAGE_ASSIGN_OR_RETURN(bool exists, checkpoint::FolderExists(directory));
  if (!exists) return NotFoundError("checkpoint at " + directory.string() + " not found");
  CheckpointInfo info;
  info.path = directory;
  info.finalized = !checkpoint::IsTemporaryDir(directory);
  if (kvstore::IsObjectStoreUrl(directory)) {  // committed by its commit file
    STOWAGE_ASSIGN_OR_RETURN(info.finalized,
                             checkpoint::FileExists(directory / checkpoint::kCommitSuccessFile));
  }
  ReadCheckpointMetadataInto(directory, info);
  info.total_bytes = checkpoint::inspect::DirectoryBytes(directory, nullptr);
  if (checkpoint::inspect::IsComposite(directory, info.item_handlers)) {
    info.is_composite = true;
    info.format = "composite";
    info.items = checkpoint::inspect::DescribeItems(directory, info.item_handlers);
    return info;
  }
  STOWAGE_RETURN_IF_ERROR(checkpoint::inspect::DescribeTreeCheckpoint(info));
  return info;
}

}  // namespace stowage
