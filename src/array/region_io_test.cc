// Region (box) writes and reads for zarr v2 and zarr3: arrays written by
// several writers, one region each, as a multi-process save does, and read
// back whole or as other regions.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "array/zarr3_array.h"
#include "array/zarr_array.h"
#include "base/bytes.h"
#include "testutil/testutil.h"

namespace stowage::array_io {
namespace {

using json = nlohmann::json;

std::shared_ptr<const Array> Iota(DType dtype, const Shape& shape, double start = 1) {
  Array f64 = Array::Uninitialized(DType::kFloat64, shape).value();
  auto values = f64.mutable_values<double>();
  std::iota(values.begin(), values.end(), start);
  return std::make_shared<const Array>(f64.AsType(dtype).value());
}

// The elements of `region` of `array`, one at a time (independent of
// CopyBox, which the code under test uses).
Array Slice(const Array& array, const Region& region) {
  Array out = Array::Uninitialized(array.dtype(), region.shape).value();
  std::size_t item = ItemSize(array.dtype()), rank = region.shape.size();
  std::int64_t count = out.num_elements();
  Shape index(rank, 0);
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t source = 0;
    for (std::size_t k = 0; k < rank; ++k) {
      source = source * array.shape()[k] + region.origin[k] + index[k];
    }
    std::memcpy(out.mutable_bytes().data() + i * item, array.bytes().data() + source * item, item);
    for (std::size_t k = rank; k-- > 0;) {
      if (++index[k] < region.shape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

// The regions of `shard` shape tiling an array of `shape` (the last ones
// smaller where the shard does not divide the shape), in C order.
std::vector<Region> Tiles(const Shape& shape, const Shape& shard) {
  std::vector<Region> tiles = {{{}, {}}};
  for (std::size_t k = 0; k < shape.size(); ++k) {
    std::vector<Region> next;
    for (const Region& t : tiles) {
      for (std::int64_t o = 0; o < shape[k]; o += shard[k]) {
        Region r = t;
        r.origin.push_back(o);
        r.shape.push_back(std::min(shard[k], shape[k] - o));
        next.push_back(r);
      }
    }
    tiles = std::move(next);
  }
  return tiles;
}

// Regions to read back from an array of `shape` (rank >= 2): rows, columns,
// a block, single elements, a box straddling chunk boundaries, the whole
// array and an empty one.
std::vector<Region> ReadRegions(const Shape& shape) {
  std::size_t rank = shape.size();
  Shape zero(rank, 0), one(rank, 1), last(rank), third(rank), half(rank);
  for (std::size_t k = 0; k < rank; ++k) {
    last[k] = shape[k] - 1;
    third[k] = shape[k] / 3;
    half[k] = std::max<std::int64_t>(1, shape[k] / 2);
  }
  Region rows{zero, shape}, columns{zero, shape}, empty{zero, shape};
  rows.origin[0] = shape[0] / 4;
  rows.shape[0] = shape[0] / 2;
  columns.origin[rank - 1] = shape[rank - 1] / 3;
  columns.shape[rank - 1] = std::max<std::int64_t>(1, shape[rank - 1] / 3);
  empty.shape[0] = 0;
  return {{zero, shape}, rows,        columns, {third, half},         {last, one},
          {third, one},  {zero, one}, empty,   {half, Shape(rank, 1)}};
}

std::string RegionName(const Region& r) {
  return ShapeToString(r.shape) + "@" + ShapeToString(r.origin);
}

// ---- the formats under test ----

enum class Format {
  kZarrZstd,
  kZarrRaw,
  kZarr3Plain,
  kZarr3Sharded,
  kZarr3Orbax,
  kZarr3OrbaxSmall
};

const Format kFormats[] = {Format::kZarrZstd,     Format::kZarrRaw,    Format::kZarr3Plain,
                           Format::kZarr3Sharded, Format::kZarr3Orbax, Format::kZarr3OrbaxSmall};

std::string FormatName(Format f) {
  switch (f) {
    case Format::kZarrZstd:
      return "zarr v2 zstd";
    case Format::kZarrRaw:
      return "zarr v2 raw";
    case Format::kZarr3Plain:
      return "zarr3 without sharding";
    case Format::kZarr3Sharded:
      return "zarr3 sharded (outer = shard)";
    case Format::kZarr3Orbax:
      return "zarr3 Orbax spec";
    case Format::kZarr3OrbaxSmall:
      return "zarr3 Orbax spec, small chunks";
  }
  return "?";
}

bool IsZarr3(Format f) { return f != Format::kZarrZstd && f != Format::kZarrRaw; }

json Little() { return {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}; }

// How one array is laid out: the global shape, the shard each writer holds
// and the (inner) chunk shape, which divides the shard.
struct Layout {
  Shape shape;
  Shape shard;
  Shape chunk;
};

void PrintTo(const Layout& l, std::ostream* os) {
  *os << ShapeToString(l.shape) << " in shards " << ShapeToString(l.shard) << ", chunks "
      << ShapeToString(l.chunk);
}

// Writes the chunks of `values` at `origin` of the global array `layout` in
// `format`; `stored` is the stored dtype.
Future<void> WriteRegionAsync(Format format, std::shared_ptr<kvstore::Store> store,
                              const Layout& layout, DType stored,
                              std::shared_ptr<const Array> values, Shape origin,
                              bool write_metadata) {
  RegionWriteOptions options{.write_metadata = write_metadata};
  if (!IsZarr3(format)) {
    json compressor = format == Format::kZarrZstd ? json{{"id", "zstd"}, {"level", 1}} : json();
    auto m = MakeZarrayMetadata(layout.shape, values->dtype(), {layout.chunk, compressor, stored});
    if (!m.has_value()) return Future<void>::Ready(m.error());
    return WriteZarrRegionAsync(store, "a", *m, values, origin, options);
  }
  Zarr3WriteSpec spec;
  switch (format) {
    case Format::kZarr3Plain:
      spec = {layout.chunk, json::array({Little(), {{"name", "zstd"}}})};
      break;
    case Format::kZarr3Sharded:
      spec = {layout.shard,
              json::array({{{"name", "sharding_indexed"},
                            {"configuration",
                             {{"chunk_shape", layout.chunk},
                              {"codecs", json::array({Little(), {{"name", "zstd"}}})},
                              {"index_codecs", json::array({Little(), {{"name", "crc32c"}}})}}}}})};
      break;
    default: {
      std::optional<std::int64_t> target;
      if (format == Format::kZarr3OrbaxSmall) target = 8 * std::int64_t(ItemSize(stored));
      auto orbax = OrbaxZarr3WriteSpec(layout.shape, layout.shard, stored, target);
      if (!orbax.has_value()) return Future<void>::Ready(orbax.error());
      spec = *orbax;
    }
  }
  spec.dtype = stored;
  return WriteZarr3RegionAsync(store, "a", layout.shape, spec, values, origin, options);
}

Result<Array> ReadRegionOf(Format format, const kvstore::Store& store, const Region& region,
                           const ZarrReadOptions& options) {
  return IsZarr3(format) ? ReadZarr3Region(store, "a", region, options)
                         : ReadZarrRegion(store, "a", region, options);
}

Result<Array> ReadWholeOf(Format format, const kvstore::Store& store,
                          const ZarrReadOptions& options) {
  return IsZarr3(format) ? ReadZarr3Array(store, "a", options) : ReadZarrArray(store, "a", options);
}

// Every key and value of `store`.
std::map<std::string, Bytes> Contents(const kvstore::Store& store) {
  std::map<std::string, Bytes> contents;
  std::vector<std::string> keys = store.List("").value();
  for (const std::string& key : keys) contents[key] = store.Read(key).value();
  return contents;
}

// The outer chunk shape (grid) of the array written under "a".
Shape OuterChunk(Format format, const kvstore::Store& store) {
  if (IsZarr3(format)) return ReadZarr3Metadata(store, "a").value().chunk_shape;
  return ReadZarrayMetadata(store, "a").value().chunks;
}

// The keys of the (outer) chunks of an array of `shape` cut into `chunk`
// that overlap `region`, found by testing every chunk of the grid.
std::set<std::string> OverlappingChunkKeys(Format format, const Shape& shape, const Shape& chunk,
                                           const Region& region) {
  std::set<std::string> keys;
  std::size_t rank = shape.size();
  for (std::int64_t n : region.shape) {
    if (n == 0) return keys;
  }
  Shape grid(rank), index(rank, 0);
  std::int64_t count = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    grid[k] = (shape[k] + chunk[k] - 1) / chunk[k];
    count *= grid[k];
  }
  for (std::int64_t i = 0; i < count; ++i) {
    bool overlaps = true;
    std::string key = IsZarr3(format) ? "a/c" : "a/";
    for (std::size_t k = 0; k < rank; ++k) {
      std::int64_t begin = index[k] * chunk[k], end = std::min(begin + chunk[k], shape[k]);
      overlaps &= begin < region.origin[k] + region.shape[k] && region.origin[k] < end;
      key += (IsZarr3(format) ? "/" : (k ? "." : "")) + std::to_string(index[k]);
    }
    if (overlaps) keys.insert(key);
    for (std::size_t k = rank; k-- > 0;) {
      if (++index[k] < grid[k]) break;
      index[k] = 0;
    }
  }
  return keys;
}

// A store that counts the reads of each key and the bytes they return.
class CountingStore : public kvstore::Store {
 public:
  struct Reads {
    int calls = 0;
    std::uint64_t bytes = 0;
  };

  explicit CountingStore(std::shared_ptr<kvstore::Store> inner) : inner_(std::move(inner)) {}

  Result<Bytes> Read(std::string_view key, kvstore::ReadOptions options) const override {
    auto value = inner_->Read(key, options);
    Count(key, value.has_value() ? value->size() : 0);
    return value;
  }
  Status ReadInto(std::string_view key, std::span<std::byte> out) const override {
    Status status = inner_->ReadInto(key, out);
    Count(key, status.has_value() ? out.size() : 0);
    return status;
  }
  Result<Bytes> ReadRange(std::string_view key, std::uint64_t offset,
                          std::uint64_t length) const override {
    auto value = inner_->ReadRange(key, offset, length);
    Count(key, value.has_value() ? value->size() : 0);
    return value;
  }
  Status Write(std::string_view key, std::span<const std::byte> value,
               kvstore::WriteOptions options) override {
    return inner_->Write(key, value, options);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<bool> Exists(std::string_view key) const override { return inner_->Exists(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) const override {
    return inner_->List(prefix);
  }
  std::string Describe(std::string_view key) const override { return inner_->Describe(key); }

  std::map<std::string, Reads> reads() const {
    std::lock_guard lock(mutex_);
    return reads_;
  }
  void Reset() {
    std::lock_guard lock(mutex_);
    reads_.clear();
  }

 private:
  void Count(std::string_view key, std::uint64_t bytes) const {
    std::lock_guard lock(mutex_);
    Reads& r = reads_[std::string(key)];
    ++r.calls;
    r.bytes += bytes;
  }

  std::shared_ptr<kvstore::Store> inner_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Reads> reads_;
};

// ---- round trips ----

struct DTypes {
  DType values;  // in memory when writing
  DType stored;
  DType read;
};

class RegionRoundTrip : public ::testing::TestWithParam<Layout> {};

TEST_P(RegionRoundTrip, RegionsWrittenByEachWriterReadBackWholeAndAsOtherRegions) {
  const Layout& layout = GetParam();
  std::vector<Region> tiles = Tiles(layout.shape, layout.shard);
  for (DTypes d : {DTypes{DType::kInt32, DType::kInt32, DType::kInt32},
                   DTypes{DType::kFloat32, DType::kBfloat16, DType::kFloat64},
                   DTypes{DType::kInt16, DType::kInt16, DType::kFloat32}}) {
    auto global = Iota(d.values, layout.shape);
    // What a reader must see: the values as stored, cast to the read dtype.
    Array expected = global->AsType(d.stored).value().AsType(d.read).value();
    for (Format format : kFormats) {
      SCOPED_TRACE(FormatName(format) + " " + std::string(DTypeName(d.values)) + "->" +
                   std::string(DTypeName(d.stored)) + "->" + std::string(DTypeName(d.read)) + ", " +
                   std::to_string(tiles.size()) + " writers");
      std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
      // All writers at once, each with only its own region; writer 0 also
      // writes the metadata.
      std::vector<Future<void>> writes;
      for (std::size_t w = 0; w < tiles.size(); ++w) {
        auto part = std::make_shared<const Array>(Slice(*global, tiles[w]));
        writes.push_back(
            WriteRegionAsync(format, store, layout, d.stored, part, tiles[w].origin, w == 0));
      }
      ASSERT_OK(WaitAll(writes));

      // The same keys and bytes as one writer writing the whole array.
      std::shared_ptr<kvstore::Store> whole = kvstore::NewMemoryStore();
      ASSERT_OK(WriteRegionAsync(format, whole, layout, d.stored, global,
                                 Shape(layout.shape.size(), 0), true)
                    .Wait());
      EXPECT_EQ(Contents(*store), Contents(*whole));

      ZarrReadOptions options{.dtype = d.read};
      ASSERT_OK_AND_ASSIGN(Array back, ReadWholeOf(format, *store, options));
      EXPECT_TRUE(BitwiseEqual(back.view(), expected.view()));
      for (const Region& region : ReadRegions(layout.shape)) {
        ASSERT_OK_AND_ASSIGN(Array part, ReadRegionOf(format, *store, region, options));
        EXPECT_TRUE(BitwiseEqual(part.view(), Slice(expected, region).view()))
            << RegionName(region);
      }
      for (const Region& tile : tiles) {  // the writers' own regions
        ASSERT_OK_AND_ASSIGN(Array part, ReadRegionOf(format, *store, tile, options));
        EXPECT_TRUE(BitwiseEqual(part.view(), Slice(expected, tile).view())) << RegionName(tile);
      }
    }
  }
}

TEST_P(RegionRoundTrip, EachWriterWritesOnlyTheChunksOfItsRegion) {
  const Layout& layout = GetParam();
  auto global = Iota(DType::kUint16, layout.shape);
  for (Format format : kFormats) {
    SCOPED_TRACE(FormatName(format));
    std::shared_ptr<kvstore::Store> reference = kvstore::NewMemoryStore();
    ASSERT_OK(WriteRegionAsync(format, reference, layout, DType::kUint16, global,
                               Shape(layout.shape.size(), 0), true)
                  .Wait());
    Shape chunk = OuterChunk(format, *reference);
    std::vector<Region> tiles = Tiles(layout.shape, layout.shard);
    for (std::size_t w = 0; w < tiles.size(); ++w) {
      std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
      auto part = std::make_shared<const Array>(Slice(*global, tiles[w]));
      ASSERT_OK(
          WriteRegionAsync(format, store, layout, DType::kUint16, part, tiles[w].origin, w == 0)
              .Wait());
      std::set<std::string> expected = OverlappingChunkKeys(format, layout.shape, chunk, tiles[w]);
      if (w == 0) expected.insert(IsZarr3(format) ? "a/zarr.json" : "a/.zarray");
      ASSERT_OK_AND_ASSIGN(auto keys, store->List(""));
      EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), expected)
          << "writer " << w << " " << RegionName(tiles[w]);
    }
  }
}

TEST_P(RegionRoundTrip, RegionReadsTouchOnlyTheOverlappingChunks) {
  const Layout& layout = GetParam();
  auto global = Iota(DType::kFloat32, layout.shape);
  for (Format format : kFormats) {
    SCOPED_TRACE(FormatName(format));
    std::shared_ptr<kvstore::Store> inner = kvstore::NewMemoryStore();
    ASSERT_OK(WriteRegionAsync(format, inner, layout, DType::kFloat32, global,
                               Shape(layout.shape.size(), 0), true)
                  .Wait());
    Shape chunk = OuterChunk(format, *inner);
    std::string metadata_key = IsZarr3(format) ? "a/zarr.json" : "a/.zarray";
    CountingStore store(inner);
    std::vector<Region> regions = ReadRegions(layout.shape);
    for (const Region& tile : Tiles(layout.shape, layout.shard)) regions.push_back(tile);
    for (const Region& region : regions) {
      store.Reset();
      ASSERT_OK_AND_ASSIGN(Array part, ReadRegionOf(format, store, region, {}));
      EXPECT_TRUE(BitwiseEqual(part.view(), Slice(*global, region).view())) << RegionName(region);
      std::set<std::string> expected = OverlappingChunkKeys(format, layout.shape, chunk, region);
      expected.insert(metadata_key);
      auto reads = store.reads();
      std::set<std::string> touched;
      for (const auto& [key, r] : reads) {
        touched.insert(key);
        EXPECT_EQ(r.calls, 1) << key << " in " << RegionName(region);
        if (key == metadata_key) continue;
        EXPECT_LE(r.bytes, inner->Read(key).value().size()) << key;
      }
      EXPECT_EQ(touched, expected) << RegionName(region);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Splits, RegionRoundTrip,
    ::testing::Values(
        // 1000 rows over 3 writers: shards of ceil(1000/3) = 334 rows, chunk = shard.
        Layout{{1000, 3}, {334, 3}, {334, 3}},
        // ... and chunks of half a shard.
        Layout{{1000, 3}, {334, 3}, {167, 3}}, Layout{{12, 10}, {12, 10}, {4, 5}},  // 1 writer
        Layout{{12, 10}, {6, 10}, {3, 5}},  // 2 writers along axis 0
        Layout{{12, 10}, {12, 4}, {6, 2}},  // 3 writers along axis 1, the last smaller
        Layout{{12, 10}, {6, 5}, {3, 5}},   // 4 writers in a 2x2 grid
        Layout{{12, 10}, {4, 5}, {2, 5}},   // 6 writers in a 3x2 grid
        Layout{{13, 11}, {5, 6}, {5, 3}},   // 6 writers, uneven along both axes
        Layout{{4, 6, 5}, {2, 3, 5}, {1, 3, 5}}));

// ---- whole-array writes are the region write of everything ----

TEST(RegionWriteTest, RegionWrittenZarrV2IsByteIdenticalToTheWholeArrayWrite) {
  auto global = Iota(DType::kFloat64, {10, 7});
  for (json compressor : {json(), json{{"id", "zstd"}, {"level", 1}}}) {
    ZarrWriteSpec spec{{4, 3}, compressor, DType::kFloat32};
    std::shared_ptr<kvstore::Store> whole = kvstore::NewMemoryStore();
    ASSERT_OK(WriteZarrArray(whole, "w", global, spec));
    std::shared_ptr<kvstore::Store> regions = kvstore::NewMemoryStore();
    ASSERT_OK_AND_ASSIGN(auto m, MakeZarrayMetadata({10, 7}, DType::kFloat64, spec));
    for (const Region& tile : Tiles({10, 7}, {4, 6})) {  // 3x2 writers, edges uneven
      auto part = std::make_shared<const Array>(Slice(*global, tile));
      ASSERT_OK(WriteZarrRegion(regions, "w", m, part, tile.origin,
                                {.write_metadata = tile.origin == Shape{0, 0}}));
    }
    auto written = Contents(*regions);
    EXPECT_EQ(written, Contents(*whole));
    EXPECT_EQ(written.size(), 1u + 3 * 3);  // .zarray + a 3x3 chunk grid
  }
}

TEST(RegionWriteTest, ProgressCountsTheRegionsBytes) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK_AND_ASSIGN(auto m, MakeZarrayMetadata({10, 7}, DType::kInt32, {{4, 3}, json()}));
  std::atomic<std::uint64_t> bytes{0};
  RegionWriteOptions options;
  options.io.progress = [&](std::uint64_t n) { bytes += n; };
  ASSERT_OK(WriteZarrRegion(store, "a", m, Iota(DType::kInt32, {6, 7}), {4, 0}, options));
  EXPECT_EQ(bytes.load(), 6u * 7 * 4);
}

// ---- preconditions ----

TEST(RegionWriteTest, MisalignedOrOutsideRegionsAreInvalidArgumentsAndWriteNothing) {
  ASSERT_OK_AND_ASSIGN(auto m, MakeZarrayMetadata({10, 10}, DType::kInt32, {{4, 5}, json()}));
  struct Bad {
    Shape values, origin;
  };
  for (const Bad& bad : {
           Bad{{4, 5}, {2, 0}},   // starts inside a chunk
           Bad{{4, 5}, {0, 1}},   // starts inside a chunk along axis 1
           Bad{{3, 5}, {0, 0}},   // ends inside a chunk, not at the edge
           Bad{{4, 3}, {4, 5}},   // ends inside the last chunk along axis 1
           Bad{{4, 5}, {8, 0}},   // runs past the array's end
           Bad{{4, 5}, {12, 0}},  // starts past it
           Bad{{4, 5}, {-4, 0}},  // negative origin
           Bad{{4, 5}, {0}},      // wrong rank
           Bad{{4}, {0}},         // wrong rank of the values
       }) {
    SCOPED_TRACE(ShapeToString(bad.values) + " at " + ShapeToString(bad.origin));
    std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
    Status status =
        WriteZarrRegion(store, "prefix/arr", m, Iota(DType::kInt32, bad.values), bad.origin);
    EXPECT_ERROR_CODE(status, ErrorCode::kInvalidArgument);
    EXPECT_NE(status.error().message().find("prefix/arr"), std::string::npos)
        << status.error().message();
    EXPECT_TRUE(store->List("").value().empty());
  }
  // Ending at the array's edge (10 is not a multiple of 4) is aligned.
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarrRegion(store, "a", m, Iota(DType::kInt32, {2, 5}), {8, 5}));
  ASSERT_OK_AND_ASSIGN(auto keys, store->List(""));
  EXPECT_EQ(keys, (std::vector<std::string>{"a/.zarray", "a/2.1"}));
}

TEST(RegionWriteTest, Zarr3RegionsMustCoverWholeShardsNotJustInnerChunks) {
  Zarr3WriteSpec spec{
      {6, 5},
      json::array({{{"name", "sharding_indexed"}, {"configuration", {{"chunk_shape", {3, 5}}}}}})};
  auto values = Iota(DType::kInt32, {3, 5});
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  Status status = WriteZarr3Region(store, "z", {12, 10}, spec, values, {0, 0});
  EXPECT_ERROR_CODE(status, ErrorCode::kInvalidArgument);
  EXPECT_NE(status.error().message().find("z"), std::string::npos);
  EXPECT_ERROR_CODE(
      WriteZarr3Region(store, "z", {12, 10}, spec, Iota(DType::kInt32, {6, 5}), {6, 10}),
      ErrorCode::kInvalidArgument);  // outside
  EXPECT_TRUE(store->List("").value().empty());
  ASSERT_OK(WriteZarr3Region(store, "z", {12, 10}, spec, Iota(DType::kInt32, {6, 5}), {6, 5}));
  ASSERT_OK_AND_ASSIGN(auto keys, store->List(""));
  EXPECT_EQ(keys, (std::vector<std::string>{"z/c/1/1", "z/zarr.json"}));
}

TEST(RegionWriteTest, EmptyRegionsWriteOnlyTheMetadataIfAsked) {
  ASSERT_OK_AND_ASSIGN(auto m, MakeZarrayMetadata({4, 6}, DType::kUint8, {{2, 2}, json()}));
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  // A writer with nothing to write, e.g. the 4th of 4 writers of 3 rows.
  ASSERT_OK(WriteZarrRegion(store, "a", m, Iota(DType::kUint8, {0, 6}), {4, 0},
                            {.write_metadata = false}));
  EXPECT_TRUE(store->List("").value().empty());
  ASSERT_OK(WriteZarrRegion(store, "a", m, Iota(DType::kUint8, {0, 6}), {3, 0}));
  EXPECT_EQ(store->List("").value(), (std::vector<std::string>{"a/.zarray"}));
  Zarr3WriteSpec spec{{2, 2}, json::array()};
  ASSERT_OK(WriteZarr3Region(store, "z", {4, 6}, spec, Iota(DType::kUint8, {4, 0}), {0, 6}));
  EXPECT_EQ(store->List("z").value(), (std::vector<std::string>{"z/zarr.json"}));
}

TEST(RegionWriteTest, OnlyTheWriterAskedWritesTheMetadata) {
  ASSERT_OK_AND_ASSIGN(auto m, MakeZarrayMetadata({4}, DType::kUint8, {{2}, json()}));
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(
      WriteZarrRegion(store, "a", m, Iota(DType::kUint8, {2}), {2}, {.write_metadata = false}));
  EXPECT_EQ(store->List("").value(), (std::vector<std::string>{"a/1"}));
  ASSERT_OK(WriteZarr3Region(store, "z", {4}, {{2}, json::array()}, Iota(DType::kUint8, {2}), {2},
                             {.write_metadata = false}));
  EXPECT_EQ(store->List("z").value(), (std::vector<std::string>{"z/c/1"}));
}

TEST(RegionWriteTest, EdgeChunksArePaddedAsTheWholeArrayWriterPadsThem) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK_AND_ASSIGN(auto m, MakeZarrayMetadata({5}, DType::kUint8, {{4}, json()}));
  ASSERT_OK(WriteZarrRegion(store, "a", m, Iota(DType::kUint8, {1}, 7), {4}));
  EXPECT_EQ(store->Read("a/1").value(),
            (Bytes{std::byte{7}, std::byte{0}, std::byte{0}, std::byte{0}}));
  Zarr3WriteSpec spec{{4}, json::array()};
  spec.fill_value = 9;
  ASSERT_OK(WriteZarr3Region(store, "z", {5}, spec, Iota(DType::kUint8, {1}, 7), {4}));
  EXPECT_EQ(store->Read("z/c/1").value(),
            (Bytes{std::byte{7}, std::byte{9}, std::byte{9}, std::byte{9}}));
}

// ---- region reads ----

TEST(RegionReadTest, RegionsOutsideTheArrayAreInvalidArguments) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarrArray(store, "a", Iota(DType::kInt8, {4, 4}), {{2, 2}, json()}));
  ASSERT_OK(WriteZarr3Array(store, "z", Iota(DType::kInt8, {4, 4}), {{2, 2}, json::array()}));
  for (const Region& bad : {Region{{3, 0}, {2, 1}}, Region{{-1, 0}, {1, 1}},
                            Region{{0, 0}, {1, -1}}, Region{{0}, {1}}, Region{{0, 0}, {5, 1}}}) {
    SCOPED_TRACE(RegionName(bad));
    auto v2 = ReadZarrRegion(*store, "a", bad);
    EXPECT_ERROR_CODE(v2, ErrorCode::kInvalidArgument);
    EXPECT_NE(v2.error().message().find("memory:a"), std::string::npos) << v2.error().message();
    EXPECT_ERROR_CODE(ReadZarr3Region(*store, "z", bad), ErrorCode::kInvalidArgument);
  }
}

TEST(RegionReadTest, MissingChunkIsNotFoundNamingItsKeyUnlessFillAllowed) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarrArray(store, "a", Iota(DType::kInt32, {4, 4}), {{2, 2}, json()}));
  Zarr3WriteSpec spec{{2, 2}, json::array()};
  spec.fill_value = -1;
  ASSERT_OK(WriteZarr3Array(store, "z", Iota(DType::kInt32, {4, 4}), spec));
  ASSERT_OK(store->Delete("a/1.0"));
  ASSERT_OK(store->Delete("z/c/1/0"));
  Region touching{{1, 1}, {2, 2}};  // overlaps all four chunks
  auto v2 = ReadZarrRegion(*store, "a", touching);
  EXPECT_ERROR_CODE(v2, ErrorCode::kNotFound);
  EXPECT_NE(v2.error().message().find("a/1.0"), std::string::npos) << v2.error().message();
  auto v3 = ReadZarr3Region(*store, "z", touching);
  EXPECT_ERROR_CODE(v3, ErrorCode::kNotFound);
  EXPECT_NE(v3.error().message().find("z/c/1/0"), std::string::npos) << v3.error().message();

  // A region not overlapping the missing chunk never asks for it.
  Region clear{{0, 0}, {2, 4}};
  ASSERT_OK_AND_ASSIGN(Array top, ReadZarrRegion(*store, "a", clear));
  EXPECT_TRUE(BitwiseEqual(top.view(), Iota(DType::kInt32, {2, 4})->view()));
  ASSERT_OK(ReadZarr3Region(*store, "z", clear));

  ASSERT_OK_AND_ASSIGN(Array filled, ReadZarrRegion(*store, "a", touching, {.fill_missing = true}));
  EXPECT_EQ(std::vector<std::int32_t>(filled.values<std::int32_t>().begin(),
                                      filled.values<std::int32_t>().end()),
            (std::vector<std::int32_t>{6, 7, 0, 11}));
  ASSERT_OK_AND_ASSIGN(filled, ReadZarr3Region(*store, "z", touching, {.fill_missing = true}));
  EXPECT_EQ(std::vector<std::int32_t>(filled.values<std::int32_t>().begin(),
                                      filled.values<std::int32_t>().end()),
            (std::vector<std::int32_t>{6, 7, -1, 11}));
}

TEST(RegionReadTest, TheMemoryLimitBoundsTheRegionNotTheWholeArray) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  auto global = Iota(DType::kFloat64, {64, 64});  // 32 KiB
  ASSERT_OK(WriteZarrArray(store, "a", global, {{8, 8}, json{{"id", "zstd"}, {"level", 1}}}));
  ASSERT_OK(WriteZarr3Array(store, "z", global, {{8, 8}, json::array()}));
  ZarrReadOptions options;
  options.io.limits.max_bytes = 4096;
  EXPECT_ERROR_CODE(ReadZarrArray(*store, "a", options), ErrorCode::kResourceExhausted);
  EXPECT_ERROR_CODE(ReadZarr3Array(*store, "z", options), ErrorCode::kResourceExhausted);
  Region small{{5, 30}, {20, 20}};  // 3200 bytes over 3x3 chunks of 512
  ASSERT_OK_AND_ASSIGN(Array a, ReadZarrRegion(*store, "a", small, options));
  EXPECT_TRUE(BitwiseEqual(a.view(), Slice(*global, small).view()));
  ASSERT_OK_AND_ASSIGN(Array z, ReadZarr3Region(*store, "z", small, options));
  EXPECT_TRUE(BitwiseEqual(z.view(), Slice(*global, small).view()));
  Region large{{0, 0}, {32, 32}};  // 8 KiB
  EXPECT_ERROR_CODE(ReadZarrRegion(*store, "a", large, options), ErrorCode::kResourceExhausted);
  EXPECT_ERROR_CODE(ReadZarr3Region(*store, "z", large, options), ErrorCode::kResourceExhausted);
  options.io.limits.max_bytes = 256;  // below one chunk
  EXPECT_ERROR_CODE(ReadZarrRegion(*store, "a", {{0, 0}, {1, 1}}, options),
                    ErrorCode::kResourceExhausted);
  EXPECT_ERROR_CODE(ReadZarr3Region(*store, "z", {{0, 0}, {1, 1}}, options),
                    ErrorCode::kResourceExhausted);
}

TEST(RegionReadTest, ReadsIntoTheCallersBuffer) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  auto global = Iota(DType::kInt16, {9, 7});
  ASSERT_OK(WriteZarrArray(store, "a", global, {{4, 3}, json{{"id", "zstd"}, {"level", 1}}}));
  ASSERT_OK(WriteZarr3Array(store, "z", global, {{4, 3}, json::array()}));
  Region region{{3, 2}, {5, 4}};
  Array expected = Slice(*global, region).AsType(DType::kFloat32).value();
  for (bool zarr3 : {false, true}) {
    SCOPED_TRACE(zarr3 ? "zarr3" : "zarr v2");
    auto read_into = [&](std::span<std::byte> out, const ZarrReadOptions& options) {
      return zarr3 ? ReadZarr3RegionInto(*store, "z", region, out, options)
                   : ReadZarrRegionInto(*store, "a", region, out, options);
    };
    std::vector<float> out(20, -1);
    ASSERT_OK(read_into(std::as_writable_bytes(std::span(out)), {.dtype = DType::kFloat32}));
    EXPECT_EQ(std::memcmp(out.data(), expected.bytes().data(), expected.num_bytes()), 0);
    // Sized for the stored int16 (or for another shape): refused.
    EXPECT_ERROR_CODE(read_into(std::as_writable_bytes(std::span(out)), {}),
                      ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(
        read_into(std::as_writable_bytes(std::span(out).first(16)), {.dtype = DType::kFloat32}),
        ErrorCode::kInvalidArgument);
    std::vector<std::int16_t> stored(20);
    ASSERT_OK(read_into(std::as_writable_bytes(std::span(stored)), {}));
    EXPECT_EQ(std::memcmp(stored.data(), Slice(*global, region).bytes().data(), 40), 0);
  }
}

TEST(RegionReadTest, ZeroDimensionalArraysAreOneRegion) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  auto scalar = std::make_shared<const Array>(Array::Scalar<double>(2.5));
  ASSERT_OK_AND_ASSIGN(auto m, MakeZarrayMetadata({}, DType::kFloat64, {{}, json()}));
  ASSERT_OK(WriteZarrRegion(store, "a", m, scalar, {}));
  ASSERT_OK(WriteZarr3Region(store, "z", {}, {{}, json::array()}, scalar, {}));
  ASSERT_OK_AND_ASSIGN(Array a, ReadZarrRegion(*store, "a", {{}, {}}));
  EXPECT_TRUE(BitwiseEqual(a.view(), scalar->view()));
  ASSERT_OK_AND_ASSIGN(Array z, ReadZarr3Region(*store, "z", {{}, {}}));
  EXPECT_TRUE(BitwiseEqual(z.view(), scalar->view()));
}

TEST(RegionReadTest, ReadsOnASeparatePoolInParallel) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  auto global = Iota(DType::kUint32, {40, 40});
  ASSERT_OK(WriteZarrArray(store, "a", global, {{3, 7}, json{{"id", "zstd"}, {"level", 1}}}));
  ThreadPool pool(4);
  ZarrReadOptions options;
  options.io.pool = &pool;
  std::atomic<std::uint64_t> bytes{0};
  options.io.progress = [&](std::uint64_t n) { bytes += n; };
  Region region{{5, 11}, {30, 20}};
  ASSERT_OK_AND_ASSIGN(Array part, ReadZarrRegion(*store, "a", region, options));
  EXPECT_TRUE(BitwiseEqual(part.view(), Slice(*global, region).view()));
  EXPECT_EQ(bytes.load(), 30u * 20 * 4);  // the region's bytes, not the chunks'
}

}  // namespace
}  // namespace stowage::array_io
