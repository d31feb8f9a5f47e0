// Issue 7, corruption: small checkpoints of every kind stowage writes, with
// every byte of every file flipped and every file truncated, one mutation at
// a time. After each, restore and VerifyCheckpoint must not crash or hang,
// and restore must either
//   (a) fail with an acceptable code whose message names the damaged file
//       (kDataLoss for data: chunks and OCDBT files; for JSON metadata also
//       kNotFound, kUnsupported, kInvalidArgument, kResourceExhausted), or
//   (b) return values bit-equal to those saved (a byte nothing depends on),
//   (c) or return other values only from a file verify lists as
//       unverifiable (chunk bytes no checksum covers).
// A silently wrong value from a checksummed file fails the test.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "stowage/checkpointer.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "stowage/verify.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;

// ---- what a restore produced, as comparable text ----

std::string Hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (std::byte b : bytes) {
    text += kDigits[std::to_integer<int>(b) >> 4];
    text += kDigits[std::to_integer<int>(b) & 15];
  }
  return text;
}

std::string Fingerprint(const Array& array) {
  std::string text = std::string(DTypeName(array.dtype())) + "[";
  for (auto d : array.shape()) text += std::to_string(d) + ",";
  return text + "]" + Hex(array.bytes());
}

std::string Fingerprint(const Tree& tree) {
  if (tree.is_none()) return "None";
  if (tree.is_map()) {
    std::string text = "{";
    for (const auto& [key, child] : tree.map()) text += key + ":" + Fingerprint(child) + ",";
    return text + "}";
  }
  if (tree.is_sequence()) {
    std::string text = "[";
    for (const auto& child : tree.sequence()) text += Fingerprint(child) + ",";
    return text + "]";
  }
  const Leaf& leaf = tree.leaf();
  if (const auto* array = std::get_if<Array>(&leaf)) return Fingerprint(*array);
  if (const auto* scalar = std::get_if<Scalar>(&leaf)) return "S" + Fingerprint(scalar->array());
  if (const auto* text = std::get_if<std::string>(&leaf)) return "'" + *text + "'";
  return "?";
}

// ---- the checkpoints ----

// Saves a checkpoint into the directory given; restores one as text.
struct Kind {
  std::string name;
  std::function<Status(const fs::path&)> save;
  std::function<Result<std::string>(const fs::path&)> restore;
};

template <typename T>
Array Values(Shape shape, int seed) {
  Array array = Array::Zeros(kDTypeOf<T>, shape).value();
  auto values = array.mutable_values<T>();
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<T>((i * 37 + static_cast<std::size_t>(seed) * 11) % 101) - T(50);
  }
  return array;
}

CheckpointSaveOptions NoFsync() {
  CheckpointSaveOptions options;
  options.fsync = kvstore::FsyncPolicy::kNone;
  return options;
}

SaveArgs ChunkBytes(std::int64_t bytes) {
  SaveArgs args;
  args.chunk_byte_size = bytes;
  return args;
}

Kind ArrayKind(std::string name, ArrayCheckpointHandlerOptions options,
               std::function<Leaf()> make_item, SaveArgs save_args = {}) {
  options.fsync = kvstore::FsyncPolicy::kNone;
  auto save = [=](const fs::path& dir) {
    Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
    return checkpointer.Save(dir, {make_item(), save_args}, NoFsync());
  };
  auto restore = [=](const fs::path& dir) -> Result<std::string> {
    Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
    STOWAGE_ASSIGN_OR_RETURN(Leaf leaf, checkpointer.Restore(dir));
    return Fingerprint(Tree(std::move(leaf)));
  };
  return {std::move(name), save, restore};
}

Kind TreeKind(std::string name, PyTreeCheckpointHandlerOptions options,
              std::function<Tree()> make_tree) {
  options.fsync = kvstore::FsyncPolicy::kNone;
  auto save = [=](const fs::path& dir) {
    Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options)};
    return checkpointer.Save(dir, {make_tree(), {}, {}}, NoFsync());
  };
  auto restore = [=](const fs::path& dir) -> Result<std::string> {
    Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options)};
    STOWAGE_ASSIGN_OR_RETURN(Tree tree, checkpointer.Restore(dir));
    return Fingerprint(tree);
  };
  return {std::move(name), save, restore};
}

Tree SmallTree() {
  Tree tree;
  tree["params"]["w"] = Values<float>({2, 8}, 1);
  tree["params"]["b"] = Values<std::int16_t>({8}, 2);
  tree["step"] = Scalar::Of(std::int64_t{1234});
  tree["note"] = std::string("hello");
  tree["empty"] = Tree::EmptyMap();
  return tree;
}

std::vector<Kind> AllKinds() {
  std::vector<Kind> kinds;
  ArrayCheckpointHandlerOptions raw;
  raw.compression = Compression::kNone;
  kinds.push_back(ArrayKind("zarr2_raw", raw, [] { return Values<float>({16}, 3); }));
  kinds.push_back(ArrayKind(
      "zarr2_zstd", {},
      [] {
        return Values<std::int32_t>({4, 8}, 4);
      },
      ChunkBytes(64)));
  ArrayCheckpointHandlerOptions zarr3;
  zarr3.use_zarr3 = true;
  kinds.push_back(ArrayKind(
      "zarr3_sharded", zarr3,
      [] {
        return Values<float>({4, 8}, 5);
      },
      ChunkBytes(64)));
  kinds.push_back(ArrayKind("scalar", {}, [] { return Scalar::Of(3.5); }));
  kinds.push_back(TreeKind("ocdbt_tree", {}, SmallTree));
  // A raw chunk of more than 1024 bytes lies in a data file, outside any node.
  PyTreeCheckpointHandlerOptions ocdbt_raw;
  ocdbt_raw.compression = Compression::kNone;
  kinds.push_back(TreeKind("ocdbt_raw_data_file", ocdbt_raw, [] {
    Tree tree;
    tree["x"] = Values<float>({272}, 6);
    return tree;
  }));
  PyTreeCheckpointHandlerOptions ocdbt_zarr3;
  ocdbt_zarr3.use_zarr3 = true;
  kinds.push_back(TreeKind("ocdbt_zarr3_tree", ocdbt_zarr3, SmallTree));
  PyTreeCheckpointHandlerOptions folders;
  folders.use_ocdbt = false;
  kinds.push_back(TreeKind("folder_tree", folders, SmallTree));
  return kinds;
}

// ---- the sweep ----

std::string ReadBytes(const fs::path& path) { return testing::ReadFileOrDie(path); }

void WriteBytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Every regular file under `dir`, relative to it, sorted.
std::vector<std::string> FilesUnder(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// JSON and text files: metadata, as opposed to chunks and OCDBT files.
bool IsMetadataFile(const std::string& text, const std::string& name) {
  return name.ends_with("commit_success.txt") || nlohmann::json::accept(text.begin(), text.end());
}

std::set<std::string> UnverifiableFiles(const VerifyReport& report) {
  std::set<std::string> files;
  for (const auto& leaf : report.unverifiable) files.insert(leaf.files.begin(), leaf.files.end());
  return files;
}

struct SweepStats {
  std::size_t mutations = 0;
  std::size_t failed_typed = 0;
  std::size_t unchanged = 0;
  std::size_t unverifiable = 0;
};

class Sweep {
 public:
  Sweep(const Kind& kind, fs::path dir, std::string baseline)
      : kind_(kind), dir_(std::move(dir)), baseline_(std::move(baseline)) {}

  // Applies `mutated` as the content of `file`, checks the outcome, then
  // puts the original back.
  void Check(const std::string& file, bool metadata, const std::string& original,
             const std::string& mutated, const std::string& what) {
    WriteBytes(dir_ / file, mutated);
    Judge(file, metadata, what);
    WriteBytes(dir_ / file, original);
    ++stats.mutations;
  }

  SweepStats stats;

 private:
  void Judge(const std::string& file, bool metadata, const std::string& what) {
    std::string where = kind_.name + ": " + file + " " + what;
    auto restored = kind_.restore(dir_);
    auto report = VerifyCheckpoint(dir_);  // must not crash whatever the outcome
    if (restored.has_value()) {
      if (*restored == baseline_) {
        ++stats.unchanged;
        return;
      }
      ++stats.unverifiable;
      ASSERT_TRUE(report.has_value()) << where;
      EXPECT_TRUE(UnverifiableFiles(*report).contains(file))
          << where << ": restore returned different values, and verify does not list the file "
          << "as unverifiable";
      return;
    }
    ++stats.failed_typed;
    const Error& error = restored.error();
    std::set<ErrorCode> acceptable = {ErrorCode::kDataLoss};
    if (metadata) {
      acceptable.insert({ErrorCode::kNotFound, ErrorCode::kUnsupported, ErrorCode::kInvalidArgument,
                         ErrorCode::kResourceExhausted});
    }
    EXPECT_TRUE(acceptable.contains(error.code())) << where << ": " << error.ToString();
    EXPECT_NE(error.ToString().find(file), std::string::npos)
        << where << ": the error does not name the file: " << error.ToString();
    if (report.has_value()) {
      EXPECT_FALSE(report->ok() && report->unverifiable.empty() && !IsOutsideVerify(file))
          << where << ": restore failed (" << error.ToString() << ") but verify found nothing";
    }
  }

  // Files a restore reads but verify need not: the Checkpointer's own.
  static bool IsOutsideVerify(const std::string& file) {
    return file == "_CHECKPOINT_METADATA" || file == "commit_success.txt";
  }

  const Kind& kind_;
  fs::path dir_;
  std::string baseline_;
};

// OCDBT manifests and data files: a CRC-32C over each object is checked
// before anything else is read, so one pattern per byte shows as much as any.
bool IsOcdbtFile(const std::string& file) {
  return file.ends_with("manifest.ocdbt") || file.starts_with("d/") ||
         file.find("/d/") != std::string::npos;
}

// The mutations of one file: each byte xor 0xFF (and, in chunk files, xor
// 0x01 and 0x80: single-bit flips a decoder might take for valid data), and
// truncation to 0, half and all but the last byte.
void SweepFile(Sweep& sweep, const fs::path& dir, const std::string& file) {
  const std::string original = ReadBytes(dir / file);
  const bool metadata = IsMetadataFile(original, file);
  std::vector<unsigned char> patterns = {0xFF};
  if (!metadata && !IsOcdbtFile(file)) patterns.insert(patterns.end(), {0x01, 0x80});
  for (std::size_t offset = 0; offset < original.size(); ++offset) {
    for (unsigned char pattern : patterns) {
      std::string mutated = original;
      mutated[offset] = static_cast<char>(mutated[offset] ^ pattern);
      sweep.Check(file, metadata, original, mutated,
                  "byte " + std::to_string(offset) + " ^ " + std::to_string(pattern));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  std::set<std::size_t> lengths = {0, original.size() / 2};
  if (!original.empty()) lengths.insert(original.size() - 1);
  for (std::size_t length : lengths) {
    if (length >= original.size()) continue;
    sweep.Check(file, metadata, original, original.substr(0, length),
                "truncated to " + std::to_string(length));
  }
}

class CorruptionSweepTest : public ::testing::TestWithParam<int> {};

TEST_P(CorruptionSweepTest, EveryFlipAndTruncationIsDetectedOrHarmless) {
  Kind kind = AllKinds()[GetParam()];
  testing::TempDir tmp;
  fs::path dir = tmp.path() / "ckpt";
  ASSERT_OK(kind.save(dir));
  ASSERT_OK_AND_ASSIGN(std::string baseline, kind.restore(dir));
  ASSERT_OK_AND_ASSIGN(VerifyReport clean, VerifyCheckpoint(dir));
  ASSERT_TRUE(clean.ok()) << clean.problems.front().ToString();
  auto start = std::chrono::steady_clock::now();
  Sweep sweep(kind, dir, baseline);
  for (const auto& file : FilesUnder(dir)) {
    SweepFile(sweep, dir, file);
    if (HasFatalFailure()) return;
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%s: %zu mutations in %.1f s: %zu typed errors, %zu harmless, %zu in unverifiable "
      "files\n",
      kind.name.c_str(), sweep.stats.mutations, seconds, sweep.stats.failed_typed,
      sweep.stats.unchanged, sweep.stats.unverifiable);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, CorruptionSweepTest,
                         ::testing::Range(0, static_cast<int>(AllKinds().size())),
                         [](const auto& info) { return AllKinds()[info.param].name; });

}  // namespace
}  // namespace stowage
