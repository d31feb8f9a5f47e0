#include "stowage/array_checkpoint_handler.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <numeric>

#include "base/bytes.h"
#include "stowage/checkpointer.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {
namespace fs = std::filesystem;

Array Iota(DType dtype, Shape shape) {
  Array f64 = Array::Uninitialized(DType::kFloat64, shape).value();
  auto values = f64.mutable_values<double>();
  std::iota(values.begin(), values.end(), 1.0);
  return f64.AsType(dtype).value();
}

std::string ReadText(const fs::path& path) { return testing::ReadFileOrDie(path); }

class ArrayCheckpointHandlerTest : public ::testing::Test {
 protected:
  fs::path Dir(const std::string& name) { return tmp_.path() / name; }
  testing::TempDir tmp_;
};

TEST_F(ArrayCheckpointHandlerTest, EveryDTypeAndRankRoundTripsThroughTheCheckpointer) {
  const Shape shapes[] = {{}, {5}, {3, 4}, {2, 3, 2}, {2, 1, 3, 2}, {1, 2, 2, 1, 3}, {4, 0}};
  int n = 0;
  for (DType dtype : kAllDTypes) {
    for (const Shape& shape : shapes) {
      Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
      Array array = Iota(dtype, shape);
      fs::path dir = Dir("c" + std::to_string(n++));
      ASSERT_OK(checkpointer.Save(dir, {array.Copy(), {}}));
      ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(dir));
      ASSERT_TRUE(std::holds_alternative<Array>(back));
      EXPECT_TRUE(BitwiseEqual(std::get<Array>(back).view(), array.view()))
          << DTypeName(dtype) << " " << ShapeToString(shape);
    }
  }
}

TEST_F(ArrayCheckpointHandlerTest, EveryStorageLayoutRoundTrips) {
  for (bool ocdbt : {false, true}) {
    for (bool zarr3 : {false, true}) {
      ArrayCheckpointHandlerOptions options;
      options.use_ocdbt = ocdbt;
      options.use_zarr3 = zarr3;
      Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
      Array array = Iota(DType::kFloat32, {33, 7});
      auto dir = Dir(std::string(ocdbt ? "ocdbt" : "files") + (zarr3 ? "-zarr3" : "-zarr2"));
      SaveArgs args;
      args.chunk_byte_size = 256;  // several chunks
      ASSERT_OK(checkpointer.Save(dir, {array.Copy(), args}));
      EXPECT_EQ(std::filesystem::exists(dir / "manifest.ocdbt"), ocdbt);
      EXPECT_EQ(std::filesystem::exists(dir / "ocdbt.process_0" / "manifest.ocdbt"), ocdbt);
      EXPECT_EQ(std::filesystem::exists(dir / "checkpoint"), !ocdbt);
      EXPECT_EQ(std::filesystem::exists(dir / "checkpoint" / "zarr.json"), !ocdbt && zarr3);
      // Restoring needs no options: the layout is read from the checkpoint.
      Checkpointer<ArrayCheckpointHandler> reader{ArrayCheckpointHandler()};
      ASSERT_OK_AND_ASSIGN(Leaf back, reader.Restore(dir));
      EXPECT_TRUE(BitwiseEqual(std::get<Array>(back).view(), array.view()))
          << "ocdbt " << ocdbt << " zarr3 " << zarr3;
      std::string metadata = testing::ReadFileOrDie(dir / "_METADATA");
      EXPECT_NE(metadata.find(std::string("\"use_ocdbt\": ") + (ocdbt ? "true" : "false")),
                std::string::npos);
      EXPECT_NE(metadata.find(std::string("\"use_zarr3\": ") + (zarr3 ? "true" : "false")),
                std::string::npos);
    }
  }
}

TEST_F(ArrayCheckpointHandlerTest, EdgeChunksFromChunkByteSize) {
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  Array array = Iota(DType::kFloat32, {30, 7});
  SaveArgs args;
  args.chunk_byte_size = 28 * 4;  // at most 28 elements per chunk
  ASSERT_OK(checkpointer.Save(Dir("c"), {array.Copy(), args}));
  std::string zarray = ReadText(Dir("c") / "checkpoint" / ".zarray");
  // choose_chunk_shape splits the largest dimension to its next divisor:
  // 30x7 -> 15x7 -> 10x7 -> 6x7 (42 > 28) -> 6x1.
  EXPECT_NE(zarray.find(R"("chunks":[6,1])"), std::string::npos) << zarray;
  ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(Dir("c")));
  EXPECT_TRUE(BitwiseEqual(std::get<Array>(back).view(), array.view()));
}

// orbax-format.md §2.3 and §3.10: what Orbax's ArrayCheckpointHandler writes
// for np.ones((4, 6), np.float32) and for the Python int 5.
TEST_F(ArrayCheckpointHandlerTest, WritesOrbaxLayoutByteForByte) {
  ArrayCheckpointHandler handler;
  Array ones = Array::Zeros(DType::kFloat32, {4, 6}).value();
  for (float& v : ones.mutable_values<float>()) v = 1.0f;
  ASSERT_OK(handler.Save(Dir("arr"), {std::move(ones), {}}));
  EXPECT_EQ(ReadText(Dir("arr") / "_METADATA"),
            R"js({"tree_metadata": {"('checkpoint',)": {"key_metadata": [{"key": "checkpoint", )js"
            R"js("key_type": 2}], "value_metadata": {"value_type": "np.ndarray", )js"
            R"js("skip_deserialize": false}}}, "use_ocdbt": false, "use_zarr3": false, )js"
            R"js("store_array_data_equal_to_fill_value": true, "custom_metadata": null})js");
  EXPECT_EQ(ReadText(Dir("arr") / "checkpoint" / ".zarray"),
            R"({"chunks":[4,6],"compressor":{"id":"zstd","level":1},"dimension_separator":".",)"
            R"("dtype":"<f4","fill_value":null,"filters":null,"order":"C","shape":[4,6],)"
            R"("zarr_format":2})");
  EXPECT_TRUE(fs::exists(Dir("arr") / "checkpoint" / "0.0"));

  ASSERT_OK(handler.Save(Dir("five"), {Scalar::Of<std::int64_t>(5), {}}));
  EXPECT_NE(ReadText(Dir("five") / "_METADATA").find(R"("value_type": "scalar")"),
            std::string::npos);
  EXPECT_EQ(ReadText(Dir("five") / "checkpoint" / ".zarray"),
            R"({"chunks":[],"compressor":{"id":"zstd","level":1},"dimension_separator":".",)"
            R"("dtype":"<i8","fill_value":null,"filters":null,"order":"C","shape":[],)"
            R"("zarr_format":2})");
  EXPECT_TRUE(fs::exists(Dir("five") / "checkpoint" / "0"));
}

TEST_F(ArrayCheckpointHandlerTest, ScalarsRestoreAsScalarsUnlessAskedOtherwise) {
  ArrayCheckpointHandler handler;
  ASSERT_OK(handler.Save(Dir("s"), {Scalar::Of(2.5), {}}));
  ASSERT_OK_AND_ASSIGN(Leaf as_saved, handler.Restore(Dir("s")));
  ASSERT_TRUE(std::holds_alternative<Scalar>(as_saved));
  EXPECT_EQ(std::get<Scalar>(as_saved).As<double>(), 2.5);
  ArrayRestoreArgs as_array;
  as_array.restore_args.restore_type = RestoreType::kArray;
  ASSERT_OK_AND_ASSIGN(Leaf array, handler.Restore(Dir("s"), as_array));
  ASSERT_TRUE(std::holds_alternative<Array>(array));
  EXPECT_EQ(std::get<Array>(array).rank(), 0);
  ASSERT_OK(handler.Save(Dir("b"), {Scalar::Of(true), {}}));
  ASSERT_OK_AND_ASSIGN(Leaf flag, handler.Restore(Dir("b")));
  EXPECT_EQ(std::get<Scalar>(flag).dtype(), DType::kBool);
  EXPECT_TRUE(std::get<Scalar>(flag).As<bool>());
}

TEST_F(ArrayCheckpointHandlerTest, RestoreTypeScalarNeedsA0dArray) {
  ArrayCheckpointHandler handler;
  ASSERT_OK(handler.Save(Dir("a"), {Iota(DType::kInt32, {3}), {}}));
  ArrayRestoreArgs args;
  args.restore_args.restore_type = RestoreType::kScalar;
  EXPECT_ERROR_CODE(handler.Restore(Dir("a"), args), ErrorCode::kInvalidArgument);
}

TEST_F(ArrayCheckpointHandlerTest, CastsOnSaveAndOnRestore) {
  ArrayCheckpointHandler handler;
  SaveArgs to_bf16;
  to_bf16.dtype = DType::kBfloat16;
  Array values =
      Array::FromValues<float>({4}, std::vector<float>{1.0f, 1.00390625f, -3.5f, 1e30f}).value();
  ASSERT_OK(handler.Save(Dir("c"), {values.Copy(), to_bf16}));
  EXPECT_NE(ReadText(Dir("c") / "checkpoint" / ".zarray").find(R"("dtype":"bfloat16")"),
            std::string::npos);
  ASSERT_OK_AND_ASSIGN(Leaf stored, handler.Restore(Dir("c")));
  EXPECT_EQ(std::get<Array>(stored).dtype(), DType::kBfloat16);
  ArrayRestoreArgs to_f32;
  to_f32.restore_args.dtype = DType::kFloat32;
  ASSERT_OK_AND_ASSIGN(Leaf back, handler.Restore(Dir("c"), to_f32));
  auto floats = std::get<Array>(back).values<float>();
  // 1.00390625 is halfway between two bfloat16 values: ties to even -> 1.0.
  EXPECT_EQ(floats[0], 1.0f);
  EXPECT_EQ(floats[1], 1.0f);
  EXPECT_EQ(floats[2], -3.5f);
  EXPECT_NEAR(floats[3], 1e30f, 1e28f);
}

TEST_F(ArrayCheckpointHandlerTest, CustomCheckpointName) {
  ArrayCheckpointHandlerOptions options;
  options.checkpoint_name = "weights";
  ArrayCheckpointHandler handler(options);
  ASSERT_OK(handler.Save(Dir("w"), {Iota(DType::kInt8, {3}), {}}));
  EXPECT_TRUE(fs::exists(Dir("w") / "weights" / ".zarray"));
  EXPECT_NE(ReadText(Dir("w") / "_METADATA").find("('weights',)"), std::string::npos);
  ASSERT_OK(handler.Restore(Dir("w")));
  EXPECT_ERROR_CODE(ArrayCheckpointHandler().Restore(Dir("w")), ErrorCode::kNotFound);
}

TEST_F(ArrayCheckpointHandlerTest, UncompressedChunksAreRawBytes) {
  ArrayCheckpointHandlerOptions options;
  options.compression = Compression::kNone;
  ArrayCheckpointHandler handler(options);
  Array array = Iota(DType::kUint16, {3});
  ASSERT_OK(handler.Save(Dir("raw"), {array.Copy(), {}}));
  EXPECT_NE(ReadText(Dir("raw") / "checkpoint" / ".zarray").find(R"("compressor":null)"),
            std::string::npos);
  EXPECT_EQ(ReadText(Dir("raw") / "checkpoint" / "0"), std::string(AsStringView(array.bytes())));
}

TEST_F(ArrayCheckpointHandlerTest, LegacyLayoutWithoutMetadataRestoresAsArray) {
  ArrayCheckpointHandler handler;
  ASSERT_OK(handler.Save(Dir("l"), {Scalar::Of<std::int32_t>(7), {}}));
  fs::remove(Dir("l") / "_METADATA");
  ASSERT_OK_AND_ASSIGN(Leaf back, handler.Restore(Dir("l")));
  ASSERT_TRUE(std::holds_alternative<Array>(back));  // Orbax: a 0-d np.ndarray
  EXPECT_EQ(std::get<Array>(back).values<std::int32_t>()[0], 7);
}

TEST_F(ArrayCheckpointHandlerTest, RejectsStringItems) {
  ArrayCheckpointHandler handler;
  EXPECT_ERROR_CODE(handler.Save(Dir("s"), {std::string("text"), {}}), ErrorCode::kUnsupported);
  EXPECT_FALSE(fs::exists(Dir("s") / "_METADATA"));
}

TEST_F(ArrayCheckpointHandlerTest, BadInputGivesTypedErrorsNamingTheFile) {
  ArrayCheckpointHandler handler;
  EXPECT_ERROR_CODE(handler.Restore(Dir("absent")), ErrorCode::kNotFound);
  ASSERT_OK(handler.Save(Dir("x"), {Iota(DType::kFloat64, {4}), {}}));
  fs::path zarray = Dir("x") / "checkpoint" / ".zarray";
  std::string good = ReadText(zarray);

  auto write = [&](const std::string& text) {
    ASSERT_OK(kvstore::OpenFileStore(Dir("x"))->Write("checkpoint/.zarray", AsBytes(text)));
  };
  write(good.substr(0, good.size() / 2));
  auto truncated = handler.Restore(Dir("x"));
  EXPECT_ERROR_CODE(truncated, ErrorCode::kDataLoss);
  EXPECT_NE(truncated.error().message().find(zarray.string()), std::string::npos);

  std::string unknown_codec = good;
  unknown_codec.replace(unknown_codec.find("zstd"), 4, "zfp!");
  write(unknown_codec);
  EXPECT_ERROR_CODE(handler.Restore(Dir("x")), ErrorCode::kUnsupported);

  std::string huge = good;
  huge.replace(huge.find(R"("shape":[4])"), 11, R"("shape":[4611686018427387904])");
  write(huge);
  EXPECT_ERROR_CODE(handler.Restore(Dir("x")), ErrorCode::kResourceExhausted);

  write(good);
  ASSERT_OK(handler.Restore(Dir("x")));
  fs::remove_all(Dir("x") / "checkpoint");
  auto missing = handler.Restore(Dir("x"));
  EXPECT_ERROR_CODE(missing, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find(".zarray"), std::string::npos);

  kvstore::OpenFileStore(Dir("y"))->Write("_METADATA", AsBytes("{not json")).has_value();
  EXPECT_ERROR_CODE(handler.Restore(Dir("y")), ErrorCode::kDataLoss);
}

TEST_F(ArrayCheckpointHandlerTest, WriteFailureSurfacesThroughTheFuture) {
  ArrayCheckpointHandler handler;
  // A regular file where the array folder must go.
  ASSERT_OK(kvstore::OpenFileStore(Dir("f"))->Write("checkpoint", AsBytes("x")));
  auto futures = handler.AsyncSave(Dir("f"), {Iota(DType::kInt32, {4}), {}});
  ASSERT_OK(futures);
  Status status = WaitAll(*futures);
  ASSERT_FALSE(status.has_value());
  EXPECT_NE(status.error().message().find("checkpoint"), std::string::npos);
  EXPECT_FALSE(fs::exists(Dir("f") / "_METADATA"));  // never written after a failure
}

// --- Checkpointer: atomic commit -------------------------------------------------

TEST_F(ArrayCheckpointHandlerTest, CheckpointerWritesCheckpointMetadataAndCommitMarker) {
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  CheckpointSaveOptions options;
  options.custom_metadata = {{"custom", "meta"}};
  ASSERT_OK(checkpointer.Save(Dir("step"), {Iota(DType::kInt32, {2}), {}}, options));
  EXPECT_FALSE(fs::exists(Dir("step.orbax-checkpoint-tmp")));
  std::string metadata = ReadText(Dir("step") / "_CHECKPOINT_METADATA");
  EXPECT_EQ(metadata.rfind(R"({"item_handlers": "orbax.checkpoint._src.handlers.)"
                           R"(array_checkpoint_handler.ArrayCheckpointHandler", "metrics": {}, )"
                           R"("performance_metrics": {}, "init_timestamp_nsecs": )",
                           0),
            0u)
      << metadata;
  EXPECT_NE(metadata.find(R"("custom_metadata": {"custom": "meta"}})"), std::string::npos);
  EXPECT_EQ(metadata.find("null"), std::string::npos);  // commit timestamp set
  EXPECT_EQ(ReadText(Dir("step") / "commit_success.txt"),
            "Checkpoint commit was successful to " + Dir("step").string());
}

TEST_F(ArrayCheckpointHandlerTest, CheckpointerRefusesToOverwriteUnlessForced) {
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  ASSERT_OK(checkpointer.Save(Dir("c"), {Iota(DType::kInt32, {2}), {}}));
  EXPECT_ERROR_CODE(checkpointer.Save(Dir("c"), {Iota(DType::kInt32, {3}), {}}),
                    ErrorCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(Leaf old_value, checkpointer.Restore(Dir("c")));
  EXPECT_EQ(std::get<Array>(old_value).shape(), Shape{2});
  CheckpointSaveOptions force;
  force.force = true;
  ASSERT_OK(checkpointer.Save(Dir("c"), {Iota(DType::kInt32, {3}), {}}, force));
  ASSERT_OK_AND_ASSIGN(Leaf new_value, checkpointer.Restore(Dir("c")));
  EXPECT_EQ(std::get<Array>(new_value).shape(), Shape{3});
  EXPECT_FALSE(fs::exists(Dir("c.stowage-replaced")));
}

TEST_F(ArrayCheckpointHandlerTest, LeftoverTemporaryIsNeverACheckpointAndIsCleaned) {
  // A crashed save leaves a half-written temporary directory.
  fs::create_directories(Dir("c.orbax-checkpoint-tmp") / "checkpoint");
  kvstore::OpenFileStore(Dir("c.orbax-checkpoint-tmp"))->Write("junk", AsBytes("x")).has_value();
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  EXPECT_ERROR_CODE(checkpointer.Restore(Dir("c")), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(checkpointer.Restore(Dir("c.orbax-checkpoint-tmp")),
                    ErrorCode::kInvalidArgument);
  ASSERT_OK(checkpointer.Save(Dir("c"), {Iota(DType::kInt32, {2}), {}}));
  EXPECT_FALSE(fs::exists(Dir("c.orbax-checkpoint-tmp")));
  EXPECT_FALSE(fs::exists(Dir("c") / "junk"));
}

TEST_F(ArrayCheckpointHandlerTest, FailedSaveLeavesThePreviousCheckpointAndNoTemporary) {
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  ASSERT_OK(checkpointer.Save(Dir("c"), {Iota(DType::kInt32, {2}), {}}));
  SaveArgs bad;
  bad.chunk_byte_size = 1;  // smaller than one element
  CheckpointSaveOptions force;
  force.force = true;
  EXPECT_ERROR_CODE(checkpointer.Save(Dir("c"), {Iota(DType::kInt32, {9}), bad}, force),
                    ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(Dir("c.orbax-checkpoint-tmp")));
  ASSERT_OK_AND_ASSIGN(Leaf kept, checkpointer.Restore(Dir("c")));
  EXPECT_EQ(std::get<Array>(kept).shape(), Shape{2});
}

// Holds every chunk write of a save until released, via the progress hook.
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST_F(ArrayCheckpointHandlerTest, AsyncSaveSnapshotsAndCommitsOnlyWhenDone) {
  auto gate = std::make_shared<Gate>();
  ArrayCheckpointHandlerOptions options;
  options.progress = [gate](std::uint64_t) { gate->Wait(); };
  AsyncCheckpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
  std::vector<float> buffer = {1, 2, 3, 4};
  ASSERT_OK_AND_ASSIGN(ArrayView view, ArrayView::Of<float>({4}, buffer));
  ASSERT_OK_AND_ASSIGN(Future<void> committed, checkpointer.AsyncSave(Dir("c"), {view, {}}));
  // The caller may reuse its buffer at once.
  std::fill(buffer.begin(), buffer.end(), -1.0f);
  EXPECT_FALSE(committed.ready());
  EXPECT_FALSE(fs::exists(Dir("c")));  // nothing visible before the commit
  EXPECT_TRUE(fs::exists(Dir("c.orbax-checkpoint-tmp")));
  gate->Open();
  ASSERT_OK(committed.Wait());
  ASSERT_OK(checkpointer.WaitUntilFinished());
  ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(Dir("c")));
  auto values = std::get<Array>(back).values<float>();
  EXPECT_EQ(std::vector<float>(values.begin(), values.end()), (std::vector<float>{1, 2, 3, 4}));
}

TEST_F(ArrayCheckpointHandlerTest, NextAsyncSaveStartsWhileThePreviousIsStillWriting) {
  auto gate = std::make_shared<Gate>();
  ArrayCheckpointHandlerOptions options;
  options.progress = [gate](std::uint64_t) { gate->Wait(); };
  AsyncCheckpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
  ASSERT_OK_AND_ASSIGN(Future<void> first,
                       checkpointer.AsyncSave(Dir("1"), {Iota(DType::kInt32, {3}), {}}));
  // The second save must not wait for the first (held back by the gate).
  auto second = std::async(std::launch::async, [&] {
    return checkpointer.AsyncSave(Dir("2"), {Iota(DType::kInt32, {5}), {}});
  });
  bool returned = second.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  EXPECT_TRUE(returned) << "AsyncSave blocked on the save in flight";
  EXPECT_FALSE(first.ready());
  gate->Open();
  ASSERT_TRUE(second.valid());
  ASSERT_OK_AND_ASSIGN(Future<void> committed, second.get());
  ASSERT_OK(committed.Wait());
  EXPECT_TRUE(first.ready());  // commits in the order the saves started
  ASSERT_OK(first.Wait());
  ASSERT_OK_AND_ASSIGN(Leaf one, checkpointer.Restore(Dir("1")));
  ASSERT_OK_AND_ASSIGN(Leaf two, checkpointer.Restore(Dir("2")));
  EXPECT_TRUE(BitwiseEqual(std::get<Array>(one).view(), Iota(DType::kInt32, {3}).view()));
  EXPECT_TRUE(BitwiseEqual(std::get<Array>(two).view(), Iota(DType::kInt32, {5}).view()));
}

TEST_F(ArrayCheckpointHandlerTest, SavingTheSameDirectoryAgainWaitsForTheSaveInFlight) {
  AsyncCheckpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  ASSERT_OK_AND_ASSIGN(Future<void> first,
                       checkpointer.AsyncSave(Dir("c"), {Iota(DType::kInt32, {3}), {}}));
  ASSERT_OK_AND_ASSIGN(
      Future<void> second,
      checkpointer.AsyncSave(Dir("c"), {Iota(DType::kInt32, {4}), {}}, {.force = true}));
  EXPECT_TRUE(first.ready());
  ASSERT_OK(first.Wait());
  ASSERT_OK(second.Wait());
  ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(Dir("c")));
  EXPECT_EQ(std::get<Array>(back).shape(), Shape{4});
}

// Without a chunk size, arrays over max_default_chunk_bytes become C-order
// slabs; an explicit chunk size and 0 keep Orbax's chunking.
TEST_F(ArrayCheckpointHandlerTest, LargeArraysAreSavedAsSlabs) {
  ArrayCheckpointHandlerOptions options;
  options.max_default_chunk_bytes = 40 * 4;  // 40 float32: 4 rows of 10
  options.compression = Compression::kNone;
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
  Array array = Iota(DType::kFloat32, {30, 10});
  ASSERT_OK(checkpointer.Save(Dir("slabs"), {array.Copy(), {}}));
  EXPECT_NE(ReadText(Dir("slabs") / "checkpoint" / ".zarray").find(R"("chunks":[3,10])"),
            std::string::npos);  // 3 divides 30 and is within half of 4
  // Chunk 1.0 holds rows 3..5 exactly as they lie in memory.
  std::string chunk = ReadText(Dir("slabs") / "checkpoint" / "1.0");
  ASSERT_EQ(chunk.size(), 30u * 4);
  EXPECT_EQ(std::memcmp(chunk.data(), array.bytes().data() + 30 * 4, chunk.size()), 0);
  ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(Dir("slabs")));
  EXPECT_TRUE(BitwiseEqual(std::get<Array>(back).view(), array.view()));

  SaveArgs explicit_size;
  explicit_size.chunk_byte_size = 150 * 4;
  ASSERT_OK(checkpointer.Save(Dir("orbax"), {array.Copy(), explicit_size}));
  EXPECT_NE(ReadText(Dir("orbax") / "checkpoint" / ".zarray").find(R"("chunks":[15,10])"),
            std::string::npos);
  options.max_default_chunk_bytes = 0;
  Checkpointer<ArrayCheckpointHandler> one_chunk{ArrayCheckpointHandler(options)};
  ASSERT_OK(one_chunk.Save(Dir("one"), {array.Copy(), {}}));
  EXPECT_NE(ReadText(Dir("one") / "checkpoint" / ".zarray").find(R"("chunks":[30,10])"),
            std::string::npos);
}

TEST_F(ArrayCheckpointHandlerTest, RestoresIntoTheCallersMemory) {
  Array array = Iota(DType::kFloat32, {30, 10});
  for (auto compression : {Compression::kNone, Compression::kZstd}) {
    for (bool ocdbt : {false, true}) {
      ArrayCheckpointHandlerOptions options;
      options.compression = compression;
      options.use_ocdbt = ocdbt;
      options.max_default_chunk_bytes = 40 * 4;  // slabs of 3 rows
      Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
      fs::path dir =
          Dir("into" + std::to_string(static_cast<int>(compression)) + std::to_string(ocdbt));
      ASSERT_OK(checkpointer.Save(dir, {array.Copy(), {}}));
      std::vector<float> buffer(300, -1.0f);
      ArrayRestoreArgs args;
      args.restore_args.into = std::as_writable_bytes(std::span<float>(buffer));
      ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(dir, args));
      const auto& view = std::get<ArrayView>(back);
      EXPECT_EQ(view.bytes().data(), args.restore_args.into.data());
      EXPECT_EQ(view.shape(), (Shape{30, 10}));
      EXPECT_TRUE(BitwiseEqual(view, array.view()));
      // Converted while reading: float64 into a buffer of that size.
      std::vector<double> wide(300);
      args.restore_args.dtype = DType::kFloat64;
      args.restore_args.into = std::as_writable_bytes(std::span<double>(wide));
      ASSERT_OK(checkpointer.Restore(dir, args));
      EXPECT_EQ(wide[299], 300.0);
      std::vector<float> small(299);
      args.restore_args.dtype.reset();
      args.restore_args.into = std::as_writable_bytes(std::span<float>(small));
      auto refused = checkpointer.Restore(dir, args);
      ASSERT_FALSE(refused.has_value());
      EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(refused.error().message().find("checkpoint"), std::string::npos)
          << refused.error().message();
    }
  }
}

TEST_F(ArrayCheckpointHandlerTest, AsyncSaveFailureIsReportedAndLeavesNothing) {
  AsyncCheckpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  // The parent "blocker" is a file: the temporary directory cannot be created.
  ASSERT_OK(kvstore::OpenFileStore(tmp_.path())->Write("blocker", AsBytes("x")));
  auto started = checkpointer.AsyncSave(Dir("blocker") / "c", {Iota(DType::kInt32, {4}), {}});
  EXPECT_FALSE(started.has_value());
}

// --- Checkpoints written by Orbax ---------------------------------------------

TEST(OrbaxFixtureTest, RestoresZarrLeavesOfAggregateSome) {
  auto dir = testing::FixturePath(
      "orbax/google__orbax/checkpoint/orbax/checkpoint/testing/aggregate_some.checkpoint");
  if (!dir) GTEST_SKIP() << "fixture absent";
  // Values from shared/fixtures/orbax/PROVENANCE.md: a = arange(8), b = arange(16) * 2, int64.
  for (auto [name, scale, size] : {std::tuple{"a", 1, 8}, std::tuple{"b", 2, 16}}) {
    ArrayCheckpointHandlerOptions options;
    options.checkpoint_name = name;
    ASSERT_OK_AND_ASSIGN(Leaf leaf, ArrayCheckpointHandler(options).Restore(*dir));
    const Array& array = std::get<Array>(leaf);
    ASSERT_EQ(array.dtype(), DType::kInt64);
    ASSERT_EQ(array.shape(), Shape{size});
    for (int i = 0; i < size; ++i) EXPECT_EQ(array.values<std::int64_t>()[i], i * scale);
  }
  ArrayCheckpointHandlerOptions aggregated;
  aggregated.checkpoint_name = "c.a";  // skip_deserialize: lives in the msgpack file
  ASSERT_OK_AND_ASSIGN(Leaf leaf, ArrayCheckpointHandler(aggregated).Restore(*dir));
  const Array& c_a = std::get<Array>(leaf);  // arange(8).reshape(2, 4) * 3
  ASSERT_EQ(c_a.shape(), (Shape{2, 4}));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(c_a.values<std::int64_t>()[i], i * 3);
}

// The compatibility checkpoints (orbax-compat/PROVENANCE.md): `a` =
// arange(8) and `b.c` = [1, 2, 3], int32, inside OCDBT as zarr v2 (v0) and as
// sharded zarr3 (v1).
TEST(OrbaxFixtureTest, RestoresArraysInsideOcdbtAsZarr2AndZarr3) {
  auto root = testing::FixturePath("orbax-compat");
  if (!root) GTEST_SKIP() << "fixtures absent";
  int cases = 0;
  for (auto& entry : fs::recursive_directory_iterator(*root)) {
    fs::path dir = entry.path().parent_path();
    if (entry.path().filename() != "manifest.ocdbt" ||
        dir.filename().string().starts_with("ocdbt.process_") ||
        dir.string().find("missing_pytree_data_dir_d") != std::string::npos) {
      continue;
    }
    for (auto [name, expected] : {std::pair{"a", std::vector<std::int32_t>{0, 1, 2, 3, 4, 5, 6, 7}},
                                  std::pair{"b.c", std::vector<std::int32_t>{1, 2, 3}}}) {
      ArrayCheckpointHandlerOptions options;
      options.checkpoint_name = name;
      ASSERT_OK_AND_ASSIGN(Leaf leaf, ArrayCheckpointHandler(options).Restore(dir));
      const Array& array = std::get<Array>(leaf);
      ASSERT_EQ(array.dtype(), DType::kInt32) << dir;
      auto values = array.values<std::int32_t>();
      EXPECT_EQ(std::vector<std::int32_t>(values.begin(), values.end()), expected) << dir;
    }
    ++cases;
  }
  EXPECT_EQ(cases, 37);  // every v0 and v1 case but the three without their `d/`
}

TEST(OrbaxFixtureTest, OcdbtCheckpointMissingItsRootNodeIsNotFoundNamingTheFile) {
  auto dir = testing::FixturePath(
      "orbax-compat/v0_checkpoints/direct_checkpoint/critical_metadata_alterations/"
      "missing_pytree_data_dir_d");
  if (!dir) GTEST_SKIP() << "fixture absent";
  ArrayCheckpointHandlerOptions options;
  options.checkpoint_name = "a";
  auto result = ArrayCheckpointHandler(options).Restore(*dir);
  EXPECT_ERROR_CODE(result, ErrorCode::kNotFound);
  EXPECT_NE(result.error().message().find("/d/"), std::string::npos) << result.error().ToString();
}

}  // namespace
}  // namespace stowage

namespace stowage {
namespace {

TEST(ArrayCheckpointHandlerNamesTest, RejectsNamesThatCannotBeStoredBeforeWriting) {
  testing::TempDir tmp;
  for (const char* name : {"_METADATA", "_CHECKPOINT_METADATA", "commit_success.txt", "d",
                           "ocdbt.process_0", "..", "a//b", "/abs"}) {
    ArrayCheckpointHandlerOptions options;
    options.checkpoint_name = name;
    auto dir = tmp.path() / "x";
    EXPECT_ERROR_CODE(ArrayCheckpointHandler(options).Save(dir, {Array::Scalar(1.0f), {}}),
                      ErrorCode::kInvalidArgument);
    EXPECT_FALSE(std::filesystem::exists(dir)) << name;
  }
}

}  // namespace
}  // namespace stowage

namespace stowage {
namespace {

// Orbax's ArrayCheckpointHandler labels a saved jax.Array "jax.Array" with a
// write_shape (orbax-format.md §3.10); stowage restores it as a host array.
TEST(ArrayCheckpointHandlerJaxTest, RestoresJaxArrayLeavesAsHostArrays) {
  testing::TempDir tmp;
  ArrayCheckpointHandler handler;
  Array array = Array::FromValues<std::int32_t>({4}, std::vector<std::int32_t>{5, 6, 7, 8}).value();
  ASSERT_OK(handler.Save(tmp.path(), {array.Copy(), {}}));
  std::string metadata = testing::ReadFileOrDie(tmp.path() / "_METADATA");
  std::string from = R"("value_type": "np.ndarray", "skip_deserialize": false)";
  metadata.replace(metadata.find(from), from.size(),
                   R"("value_type": "jax.Array", "skip_deserialize": false, "write_shape": [2])");
  ASSERT_OK(kvstore::OpenFileStore(tmp.path())->Write("_METADATA", AsBytes(metadata)));
  ASSERT_OK_AND_ASSIGN(Leaf back, handler.Restore(tmp.path()));
  ASSERT_TRUE(std::holds_alternative<Array>(back));
  EXPECT_TRUE(BitwiseEqual(std::get<Array>(back).view(), array.view()));
  // A value_type nobody registered is refused, not guessed.
  metadata.replace(metadata.find("jax.Array"), 9, "my.Type");
  ASSERT_OK(kvstore::OpenFileStore(tmp.path())->Write("_METADATA", AsBytes(metadata)));
  EXPECT_ERROR_CODE(handler.Restore(tmp.path()), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace stowage
