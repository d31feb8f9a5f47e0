// Users' own type handlers (Orbax register_type_handler), per-leaf value
// types, StandardCheckpointHandler's refusals, partial restores of sequences
// and the pre-2024 single-array msgpack layout.
#include <gtest/gtest.h>

#include <fstream>

#include "stowage/array_checkpoint_handler.h"
#include "stowage/standard_checkpoint_handler.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;
using testing::ReadFileOrDie;

// Stores uint8 vectors as one raw value `<name>/raw`.
class RawBytesHandler : public CustomTypeHandler {
 public:
  std::string_view typestr() const override { return "example.RawBytes"; }
  bool Accepts(const Leaf& leaf) const override {
    const Array* array = std::get_if<Array>(&leaf);
    return array && array->dtype() == DType::kUint8 && array->rank() == 1;
  }
  Result<Future<void>> Save(std::shared_ptr<kvstore::Store> store, std::string_view param_name,
                            Leaf leaf, const SaveArgs&) const override {
    const Array& array = std::get<Array>(leaf);
    Status written = store->Write(std::string(param_name) + "/raw", array.bytes());
    return Future<void>::Ready(std::move(written));
  }
  Result<Leaf> Restore(const kvstore::Store& store, std::string_view param_name,
                       const RestoreArgs&) const override {
    STOWAGE_ASSIGN_OR_RETURN(Bytes bytes, store.Read(std::string(param_name) + "/raw"));
    STOWAGE_ASSIGN_OR_RETURN(
        Array array, Array::Zeros(DType::kUint8, {static_cast<std::int64_t>(bytes.size())}));
    std::copy(bytes.begin(), bytes.end(), array.mutable_bytes().begin());
    return Leaf(std::move(array));
  }
};

Tree MixedTree() {
  Tree tree;
  tree["blob"] =
      Array::FromValues<std::uint8_t>({4}, std::vector<std::uint8_t>{9, 8, 7, 6}).value();
  tree["w"] = Array::FromValues<float>({2}, std::vector<float>{0.5f, 1.5f}).value();
  return tree;
}

PyTreeCheckpointHandlerOptions PlainOptions() {
  PyTreeCheckpointHandlerOptions options;
  options.use_ocdbt = false;  // so the stored files can be looked at
  options.fsync = kvstore::FsyncPolicy::kNone;
  return options;
}

TEST(CustomTypeHandlerTest, SavesAndRestoresThroughTheUsersHandler) {
  testing::TempDir tmp;
  auto options = PlainOptions();
  options.type_handlers.push_back(std::make_shared<RawBytesHandler>());
  ASSERT_OK(PyTreeCheckpointHandler(options).Save(tmp.path(), {MixedTree()}));
  EXPECT_EQ(ReadFileOrDie(tmp.path() / "blob" / "raw"), "\x09\x08\x07\x06");
  std::string metadata = ReadFileOrDie(tmp.path() / "_METADATA");
  EXPECT_NE(metadata.find("\"value_type\": \"example.RawBytes\""), std::string::npos) << metadata;
  EXPECT_NE(metadata.find("\"value_type\": \"np.ndarray\""), std::string::npos) << metadata;
  ASSERT_OK_AND_ASSIGN(Tree restored, PyTreeCheckpointHandler(options).Restore(tmp.path()));
  auto blob = std::get<Array>(restored.Find("blob")->leaf()).values<std::uint8_t>();
  EXPECT_EQ(std::vector<std::uint8_t>(blob.begin(), blob.end()),
            (std::vector<std::uint8_t>{9, 8, 7, 6}));
  EXPECT_EQ(std::get<Array>(restored.Find("w")->leaf()).values<float>()[1], 1.5f);

  auto without = PyTreeCheckpointHandler(PlainOptions()).Restore(tmp.path());
  EXPECT_ERROR_CODE(without, ErrorCode::kUnsupported);
  EXPECT_NE(without.error().message().find("example.RawBytes"), std::string::npos);
}

TEST(CustomTypeHandlerTest, TypestrsMustBeUniqueAndNotBuiltIn) {
  class Clash : public RawBytesHandler {
    std::string_view typestr() const override { return "np.ndarray"; }
  };
  testing::TempDir tmp;
  auto options = PlainOptions();
  options.type_handlers.push_back(std::make_shared<Clash>());
  EXPECT_ERROR_CODE(PyTreeCheckpointHandler(options).Save(tmp.path(), {MixedTree()}),
                    ErrorCode::kInvalidArgument);
  options.type_handlers = {std::make_shared<RawBytesHandler>(),
                           std::make_shared<RawBytesHandler>()};
  EXPECT_ERROR_CODE(PyTreeCheckpointHandler(options).Restore(tmp.path()),
                    ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(CustomTypeHandlerTest, SaveArgsValueTypePicksTheHandlerOfOneLeaf) {
  testing::TempDir tmp;
  PyTreeSaveArgs args{MixedTree()};
  args.save_args["w"].value_type = "jax.Array";
  ASSERT_OK(PyTreeCheckpointHandler(PlainOptions()).Save(tmp.path(), std::move(args)));
  std::string metadata = ReadFileOrDie(tmp.path() / "_METADATA");
  EXPECT_NE(metadata.find("\"value_type\": \"jax.Array\", \"skip_deserialize\": false, "
                          "\"write_shape\": [2]"),
            std::string::npos)
      << metadata;
  EXPECT_EQ(
      ReadFileOrDie(tmp.path() / "_sharding"),
      R"({"dw==":"{\"sharding_type\": \"SingleDeviceSharding\", \"device_str\": \"cpu:0\"}"})");

  PyTreeSaveArgs wrong{MixedTree()};
  wrong.save_args["w"].value_type = "scalar";
  EXPECT_ERROR_CODE(
      PyTreeCheckpointHandler(PlainOptions()).Save(tmp.path() / "x", std::move(wrong)),
      ErrorCode::kInvalidArgument);
  PyTreeSaveArgs unknown{MixedTree()};
  unknown.save_args["w"].value_type = "no.Such";
  EXPECT_ERROR_CODE(
      PyTreeCheckpointHandler(PlainOptions()).Save(tmp.path() / "y", std::move(unknown)),
      ErrorCode::kUnsupported);
}

TEST(StandardCheckpointHandlerTest, RefusesSingleLeavesAndStrings) {
  testing::TempDir tmp;
  StandardCheckpointHandler handler(PlainOptions());
  EXPECT_ERROR_CODE(handler.Save(tmp.path(), {Tree(Scalar::Of(1.0))}), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(handler.Save(tmp.path(), {Tree()}), ErrorCode::kInvalidArgument);
  Tree with_text = MixedTree();
  with_text["note"]["text"] = std::string("hello");
  auto refused = handler.Save(tmp.path(), {std::move(with_text)});
  EXPECT_ERROR_CODE(refused, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("note.text"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(PartialRestoreTest, UnselectedSequenceElementsBeforeASelectedOneAreNone) {
  testing::TempDir tmp;
  Tree tree;
  tree["opt"].Append(Scalar::Of(std::int64_t{1}));
  tree["opt"].Append(Tree());
  tree["opt"].Append(Scalar::Of(std::int64_t{3}));
  ASSERT_OK(PyTreeCheckpointHandler(PlainOptions()).Save(tmp.path(), {std::move(tree)}));
  ASSERT_OK_AND_ASSIGN(Tree restored,
                       PyTreeCheckpointHandler().Restore(tmp.path(), {{}, {"opt.2"}}));
  const auto& opt = restored.Find("opt")->sequence();
  ASSERT_EQ(opt.size(), 3u);
  EXPECT_TRUE(opt[0].is_none());
  EXPECT_TRUE(opt[1].is_none());
  EXPECT_EQ(std::get<Scalar>(opt[2].leaf()).As<std::int64_t>(), 3);
}

// Orbax's ArrayCheckpointHandler before 2024 with SaveArgs(aggregate=True):
// the file `<dir>/checkpoint` is the msgpack of {"ELEMENT": value}, arrays as
// Flax's ext type 1 = msgpack [shape, dtype name, raw bytes] (orbax-format.md §6).
TEST(ArrayCheckpointHandlerLegacyTest, RestoresTheAggregatedMsgpackFile) {
  testing::TempDir tmp;
  const unsigned char file[] = {0x81, 0xa7, 'E',  'L',  'E',  'M', 'E', 'N', 'T',  // {"ELEMENT":
                                0xc7, 15,   0x01,                     // ext8, 15 bytes, type 1
                                0x93, 0x91, 0x02,                     // [[2],
                                0xa5, 'i',  'n',  't',  '1',  '6',    //  "int16",
                                0xc4, 4,    0x01, 0x00, 0xff, 0xff};  //  bin [1, -1]]}
  std::ofstream(tmp.path() / "checkpoint", std::ios::binary)
      .write(reinterpret_cast<const char*>(file), sizeof(file));
  ASSERT_OK_AND_ASSIGN(Leaf leaf, ArrayCheckpointHandler().Restore(tmp.path()));
  const Array& array = std::get<Array>(leaf);
  ASSERT_EQ(array.dtype(), DType::kInt16);
  EXPECT_EQ(array.values<std::int16_t>()[0], 1);
  EXPECT_EQ(array.values<std::int16_t>()[1], -1);
  ArrayRestoreArgs as_float{{.dtype = DType::kFloat32}};
  ASSERT_OK_AND_ASSIGN(Leaf cast, ArrayCheckpointHandler().Restore(tmp.path(), as_float));
  EXPECT_EQ(std::get<Array>(cast).values<float>()[1], -1.0f);

  const unsigned char scalar[] = {0x81, 0xa7, 'E', 'L', 'E', 'M', 'E', 'N', 'T', 0x2a};  // 42
  std::ofstream(tmp.path() / "checkpoint", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(scalar), sizeof(scalar));
  ASSERT_OK_AND_ASSIGN(Leaf number, ArrayCheckpointHandler().Restore(tmp.path()));
  EXPECT_EQ(std::get<Scalar>(number).As<std::int64_t>(), 42);

  std::ofstream(tmp.path() / "checkpoint", std::ios::binary | std::ios::trunc) << "\x81\xa7";
  auto truncated = ArrayCheckpointHandler().Restore(tmp.path());
  EXPECT_ERROR_CODE(truncated, ErrorCode::kDataLoss);
  EXPECT_NE(truncated.error().message().find("checkpoint"), std::string::npos);
}

}  // namespace
}  // namespace stowage
