#include "stowage/inspect.h"

#include <fcntl.h>

#include <algorithm>

#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/inspect_internal.h"
#include "checkpoint/layout.h"
#include "kvstore/file_ops.h"

namespace stowage {
namespace fs = std::filesystem;

namespace checkpoint::inspect {

std::uint64_t DirectoryBytes(const fs::path& dir, std::uint64_t* files) {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      bytes += it->file_size(ec);
      if (files) ++*files;
    }
  }
  return bytes;
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
  STOWAGE_ASSIGN_OR_RETURN(*size, kvstore::FileSize(path));
  STOWAGE_ASSIGN_OR_RETURN(kvstore::FileDescriptor file, kvstore::OpenFile(path, O_RDONLY));
  std::string text(std::min(*size, max_bytes), '\0');
  STOWAGE_RETURN_IF_ERROR(
      kvstore::PreadExact(file.get(), std::as_writable_bytes(std::span(text)), 0, path));
  return text;
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
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return NotFoundError("checkpoint at " + directory.string() + " not found");
  }
  CheckpointInfo info;
  info.path = directory;
  info.finalized = !checkpoint::IsTemporaryDir(directory);
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
