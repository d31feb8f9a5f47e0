#include "base/python_json.h"

#include <gtest/gtest.h>

namespace stowage {
namespace {

// Expected strings are what CPython 3 prints for the same values:
// json.dumps(...), repr(float), repr(tuple).
TEST(PythonJsonTest, DumpsLikeJsonDumps) {
  nlohmann::ordered_json value = {
      {"tree_metadata", {{"('a',)", {{"key", "a"}, {"key_type", 2}}}}},
      {"use_ocdbt", false},
      {"list", {1, 2.5, nullptr, "x"}},
      {"custom_metadata", nullptr},
  };
  EXPECT_EQ(DumpPythonJson(value),
            R"js({"tree_metadata": {"('a',)": {"key": "a", "key_type": 2}}, "use_ocdbt": false, )js"
            R"js("list": [1, 2.5, null, "x"], "custom_metadata": null})js");
  EXPECT_EQ(DumpPythonJson(nlohmann::ordered_json::object()), "{}");
  EXPECT_EQ(DumpPythonJson(nlohmann::ordered_json::array()), "[]");
}

TEST(PythonJsonTest, EscapesLikeEnsureAscii) {
  // json.dumps("é\"\n\x01😀") == '"\\u00e9\\"\\n\\u0001\\ud83d\\ude00"'
  EXPECT_EQ(DumpPythonJson("\xc3\xa9\"\n\x01\xf0\x9f\x98\x80"),
            R"("\u00e9\"\n\u0001\ud83d\ude00")");
}

TEST(PythonJsonTest, FloatReprMatchesPython) {
  EXPECT_EQ(PythonFloatRepr(1.0), "1.0");
  EXPECT_EQ(PythonFloatRepr(0.5), "0.5");
  EXPECT_EQ(PythonFloatRepr(0.1), "0.1");
  EXPECT_EQ(PythonFloatRepr(1e-05), "1e-05");
  EXPECT_EQ(PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PythonFloatRepr(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(PythonFloatRepr(-2.5e-300), "-2.5e-300");
  EXPECT_EQ(PythonFloatRepr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(PythonFloatRepr(-0.0), "-0.0");
}

TEST(PythonJsonTest, TupleReprMatchesPython) {
  EXPECT_EQ(PythonTupleRepr({}), "()");
  EXPECT_EQ(PythonTupleRepr({"a"}), "('a',)");
  EXPECT_EQ(PythonTupleRepr({"b", "c"}), "('b', 'c')");
  EXPECT_EQ(PythonTupleRepr({"it's"}), "(\"it's\",)");
  EXPECT_EQ(PythonTupleRepr({"a'\"b"}), "('a\\'\"b',)");
  EXPECT_EQ(PythonTupleRepr({"x\\y"}), "('x\\\\y',)");
}

}  // namespace
}  // namespace stowage
