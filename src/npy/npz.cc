#include "npy/npz.h"

#include <zip.h>

#include <fstream>
#include <memory>
#include <set>

#include "base/bytes.h"
#include "npy/npy.h"

namespace stowage::npy {
namespace {

struct ArchiveCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;

std::string ZipMessage(zip_t* archive) { return zip_strerror(archive); }

Result<Bytes> ReadMember(zip_t* archive, zip_uint64_t index, std::uint64_t size,
                         const std::string& where) {
  Bytes bytes(size);
  zip_file_t* file = zip_fopen_index(archive, index, 0);
  if (file == nullptr) return DataLossError(where + ": " + ZipMessage(archive));
  zip_int64_t read = zip_fread(file, bytes.data(), size);
  zip_fclose(file);
  if (read < 0 || static_cast<std::uint64_t>(read) != size) {
    return DataLossError(where + ": member is shorter than its directory entry says");
  }
  return bytes;
}

Error NotAnArchive(const std::string& where, zip_error_t* zip_error) {
  return DataLossError(where +
                       " is not a valid .npz (zip) archive: " + zip_error_strerror(zip_error));
}

// Every member of an open archive as an array, in member order.
Result<std::vector<NamedArray>> ReadMembers(zip_t* archive, const std::string& archive_name,
                                            std::uint64_t max_bytes) {
  if (max_bytes == 0) max_bytes = PhysicalMemoryBytes();
  std::vector<NamedArray> arrays;
  zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t stat;
    if (zip_stat_index(archive, i, 0, &stat) != 0) {
      return DataLossError(archive_name + ": " + ZipMessage(archive));
    }
    std::string name = stat.name;
    std::string where = archive_name + " member " + name;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".npy") {
      return DataLossError(where + ": not a .npy member");
    }
    if (stat.size > max_bytes) {
      return ResourceExhaustedError(where + ": " + std::to_string(stat.size) +
                                    " bytes exceed the limit of " + std::to_string(max_bytes));
    }
    STOWAGE_ASSIGN_OR_RETURN(Bytes bytes, ReadMember(archive, i, stat.size, where));
    STOWAGE_ASSIGN_OR_RETURN(Array array, DecodeNpy(bytes, where));
    arrays.push_back({name.substr(0, name.size() - 4), std::move(array)});
  }
  return arrays;
}

// libzip writes no file for an archive without members; numpy.savez() writes
// the bare end-of-central-directory record, and so does this.
Status WriteEmptyArchive(const std::filesystem::path& path) {
  char record[22] = {'P', 'K', 5, 6};
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(record, sizeof(record));
  if (!out.flush()) return IoError("cannot write " + path.string());
  return OkStatus();
}

}  // namespace

Result<std::vector<NamedArray>> ReadNpzFile(const std::filesystem::path& path,
                                            std::uint64_t max_bytes) {
  int error = 0;
  Archive archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!archive) {
    if (error == ZIP_ER_NOENT || error == ZIP_ER_OPEN) {
      return NotFoundError(path.string() + " cannot be opened");
    }
    zip_error_t zip_error;
    zip_error_init_with_code(&zip_error, error);
    Error invalid = NotAnArchive(path.string(), &zip_error);
    zip_error_fini(&zip_error);
    return invalid;
  }
  return ReadMembers(archive.get(), path.string(), max_bytes);
}

Result<std::vector<NamedArray>> DecodeNpz(std::span<const std::byte> archive_bytes,
                                          std::string_view where, std::uint64_t max_bytes) {
  zip_error_t zip_error;
  zip_error_init(&zip_error);
  zip_source_t* source =
      zip_source_buffer_create(archive_bytes.data(), archive_bytes.size(), 0, &zip_error);
  Archive archive(source ? zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &zip_error)
                         : nullptr);
  if (!archive) {
    if (source) zip_source_free(source);
    Error invalid = NotAnArchive(std::string(where), &zip_error);
    zip_error_fini(&zip_error);
    return invalid;
  }
  zip_error_fini(&zip_error);
  return ReadMembers(archive.get(), std::string(where), max_bytes);
}

Status WriteNpzFile(const std::filesystem::path& path,
                    const std::vector<std::pair<std::string, ArrayView>>& arrays) {
  std::set<std::string> names;
  for (const auto& [name, array] : arrays) {
    if (name.empty() || !names.insert(name).second) {
      return InvalidArgumentError("npz member name \"" + name + "\" is empty or repeated");
    }
  }
  if (arrays.empty()) return WriteEmptyArchive(path);
  int error = 0;
  Archive archive(zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error));
  if (!archive) return IoError("cannot create " + path.string());
  // libzip reads the sources at zip_close, so the encoded members must live
  // until then.
  std::vector<Bytes> members;
  members.reserve(arrays.size());
  for (const auto& [name, array] : arrays) {
    Bytes member = EncodeNpyHeader(array);
    member.insert(member.end(), array.bytes().begin(), array.bytes().end());
    members.push_back(std::move(member));
    zip_source_t* source =
        zip_source_buffer(archive.get(), members.back().data(), members.back().size(), 0);
    zip_int64_t index =
        source ? zip_file_add(archive.get(), (name + ".npy").c_str(), source, ZIP_FL_ENC_UTF_8)
               : -1;
    if (index < 0) {
      if (source) zip_source_free(source);
      return IoError(path.string() + ": cannot add " + name + ": " + ZipMessage(archive.get()));
    }
    zip_set_file_compression(archive.get(), index, ZIP_CM_STORE, 0);
  }
  if (zip_close(archive.get()) != 0) {
    return IoError(path.string() + ": " + ZipMessage(archive.get()));
  }
  archive.release();  // closed
  return OkStatus();
}

}  // namespace stowage::npy
