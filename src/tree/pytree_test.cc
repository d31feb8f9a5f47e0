#include "tree/pytree.h"

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace stowage::tree {
namespace {

std::vector<std::string> Names(const std::vector<FlatNode>& nodes) {
  std::vector<std::string> names;
  for (const auto& node : nodes) names.push_back(ParamName(node.path));
  return names;
}

Tree Sample() {
  Tree tree;
  tree["params"]["w"] = Array::Scalar(1.0f);
  tree["params"]["b"] = Array::Scalar(2.0f);
  tree["opt"].Append(Scalar::Of(std::int64_t{3}));
  tree["opt"].Append(Tree::EmptyMap());
  tree["opt"].Append(Tree());
  tree["name"] = std::string("run-1");
  tree["empty"] = Tree::EmptySequence();
  return tree;
}

TEST(PyTreeTest, FlattensLikeJaxSortedKeysAndSequenceIndices) {
  Tree tree = Sample();
  auto flat = Flatten(tree);
  EXPECT_EQ(Names(flat), (std::vector<std::string>{"empty", "name", "opt.0", "opt.1", "opt.2",
                                                   "params.b", "params.w"}));
  EXPECT_EQ(flat[2].path[1].type, KeyType::kSequence);
  EXPECT_EQ(flat[5].path[1].type, KeyType::kDict);
  EXPECT_EQ(EmptyNodeTypestr(*flat[0].node), "List");
  EXPECT_EQ(EmptyNodeTypestr(*flat[3].node), "Dict");
  EXPECT_EQ(EmptyNodeTypestr(*flat[4].node), "None");
  // Insertion order is kept for iteration.
  EXPECT_EQ(tree.map()[0].first, "params");
}

TEST(PyTreeTest, UnflattenRebuildsMapsSequencesAndEmptyNodes) {
  std::vector<std::pair<KeyPath, Tree>> nodes;
  Tree sample = Sample();
  for (const auto& node : Flatten(sample)) {
    Tree copy = node.node->is_leaf() ? Tree(std::string("leaf"))
                                     : EmptyNodeOf(EmptyNodeTypestr(*node.node));
    nodes.emplace_back(node.path, std::move(copy));
  }
  ASSERT_OK_AND_ASSIGN(Tree back, Unflatten(std::move(nodes)));
  ASSERT_TRUE(back.is_map());
  const Tree* opt = back.Find("opt");
  ASSERT_NE(opt, nullptr);
  ASSERT_TRUE(opt->is_sequence());
  ASSERT_EQ(opt->sequence().size(), 3u);
  EXPECT_TRUE(opt->sequence()[1].is_map());
  EXPECT_TRUE(opt->sequence()[2].is_none());
  EXPECT_TRUE(back.Find("empty")->is_sequence());
  EXPECT_EQ(std::get<std::string>(back.Find("params")->Find("w")->leaf()), "leaf");
  EXPECT_EQ(Names(Flatten(back)), Names(Flatten(sample)));
}

TEST(PyTreeTest, UnflattenRefusesConflictingPaths) {
  auto leaf = [] { return Tree(std::string("x")); };
  KeyPath a{{"a", KeyType::kDict}};
  KeyPath a_b{{"a", KeyType::kDict}, {"b", KeyType::kDict}};
  KeyPath a_0{{"a", KeyType::kDict}, {"0", KeyType::kSequence}};
  KeyPath a_2{{"a", KeyType::kDict}, {"2", KeyType::kSequence}};
  std::vector<std::pair<KeyPath, Tree>> twice;
  twice.emplace_back(a, leaf());
  twice.emplace_back(a, leaf());
  EXPECT_ERROR_CODE(Unflatten(std::move(twice)), ErrorCode::kDataLoss);
  std::vector<std::pair<KeyPath, Tree>> mixed;
  mixed.emplace_back(a_b, leaf());
  mixed.emplace_back(a_0, leaf());
  EXPECT_ERROR_CODE(Unflatten(std::move(mixed)), ErrorCode::kDataLoss);
  std::vector<std::pair<KeyPath, Tree>> gap;
  gap.emplace_back(a_2, leaf());
  auto result = Unflatten(std::move(gap));
  EXPECT_ERROR_CODE(result, ErrorCode::kDataLoss);
  EXPECT_NE(result.error().message().find("\"a.2\""), std::string::npos);
}

}  // namespace
}  // namespace stowage::tree
