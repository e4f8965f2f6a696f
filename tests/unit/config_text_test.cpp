// Configuration: merge-patch layering, --set parsing, strict keys with the nearest valid one.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/hash.h"
#include "harness/config.h"

namespace ptbench {
namespace {

TEST(Config, SetOverrideParsesJsonValuesAndNestsKeys) {
  EXPECT_EQ(parse_set_override("train.lr=3e-4"), (nlohmann::json{{"train", {{"lr", 3e-4}}}}));
  EXPECT_EQ(parse_set_override("method.layers=[0,1]"), (nlohmann::json{{"method", {{"layers", {0, 1}}}}}));
  EXPECT_EQ(parse_set_override("task=rte"), (nlohmann::json{{"task", "rte"}}));
  EXPECT_EQ(parse_set_override("a.b.c=true"), (nlohmann::json{{"a", {{"b", {{"c", true}}}}}}));
  EXPECT_THROW(parse_set_override("no-equals-sign"), Error);
  EXPECT_THROW(parse_set_override("a..b=1"), Error);
}

TEST(Config, MergePatchIsDeepAndNullDeletes) {
  nlohmann::json base = {{"train", {{"lr", 1.0}, {"epochs", 3}}}, {"task", "rte"}};
  apply_merge_patch(base, {{"train", {{"lr", 2.0}}}, {"task", nullptr}});
  EXPECT_EQ(base, (nlohmann::json{{"train", {{"lr", 2.0}, {"epochs", 3}}}}));
}

TEST(Config, UnknownKeyNamesItAndTheNearest) {
  const nlohmann::json schema = {{"train", {{"epochs", 3}, {"lr", 0.1}}}, {"task", "rte"}};
  try {
    check_known_keys({{"train", {{"epoch", 2}}}}, schema, "run spec");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'train.epoch'"), std::string::npos) << message;
    EXPECT_NE(message.find("did you mean 'epochs'"), std::string::npos) << message;
  }
  EXPECT_THROW(check_known_keys({{"train", {{"epochs", "three"}}}}, schema, "run spec"), Error);
  EXPECT_THROW(check_known_keys({{"train", {{"epochs", 2.5}}}}, schema, "run spec"), Error);
  EXPECT_NO_THROW(check_known_keys({{"train", {{"lr", 1}}}}, schema, "run spec"));  // an integer is a number
}

TEST(Config, EditDistanceAndSuggestions) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(suggestion_suffix("prefx", {"prompt", "prefix", "smop"}), " (did you mean 'prefix'?)");
  EXPECT_EQ(suggestion_suffix("zzzzzzzz", {"prompt", "prefix"}), "");
}

TEST(Config, StableIdIgnoresKeyOrderButNotValues) {
  const nlohmann::json a = nlohmann::json::parse(R"({"x": 1, "y": {"b": 2, "a": 3}})");
  const nlohmann::json b = nlohmann::json::parse(R"({"y": {"a": 3, "b": 2}, "x": 1})");
  EXPECT_EQ(stable_json_id(a), stable_json_id(b));
  EXPECT_NE(stable_json_id(a), stable_json_id({{"x", 2}}));
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");  // FIPS 180-1 test vector
}

}  // namespace
}  // namespace ptbench
