// The classes a run trains on: --classes' syntax, its errors, the corpus default and config.json's form.
#include "data/classes.h"
#include "test_util.h"

using namespace erc;
using namespace erc::data;
using erc::test::error_of;
using erc::test::mentions;

namespace {

std::vector<UtteranceInfo> labelled(const std::vector<std::string>& labels) {
  std::vector<UtteranceInfo> out;
  for (const std::string& label : labels) {
    UtteranceInfo u;
    u.utt_id = "u" + std::to_string(out.size());
    u.label = label;
    out.push_back(u);
  }
  return out;
}

}  // namespace

TEST(Classes, ThePapersSixAreItsLabelsInItsOrder) {
  const ClassSet paper = ClassSet::paper();
  EXPECT_EQ(paper.names(), (std::vector<std::string>{"ang", "exc", "fru", "hap", "neu", "sad"}));
  EXPECT_EQ(paper.index("ang"), 0);
  EXPECT_EQ(paper.index("sad"), 5);
  EXPECT_EQ(paper.index("xxx"), kIgnoreLabel);
  EXPECT_EQ(paper.index(""), kIgnoreLabel);
  EXPECT_EQ(paper.spec(), "ang,exc,fru,hap,neu,sad");
}

TEST(Classes, PlusMergesLabelsAndEqualsNamesTheClass) {
  const ClassSet four = ClassSet::parse("ang, hap+exc ,neu,sad");  // blanks around a class are dropped
  EXPECT_EQ(four.names(), (std::vector<std::string>{"ang", "hap+exc", "neu", "sad"}));
  EXPECT_EQ(four.index("hap"), 1);
  EXPECT_EQ(four.index("exc"), 1);
  EXPECT_EQ(four.index("sad"), 3);
  EXPECT_EQ(four.index("fru"), kIgnoreLabel);  // a label in no class is input only
  EXPECT_EQ(four.spec(), "ang,hap+exc,neu,sad");

  const ClassSet named = ClassSet::parse("happy=hap+exc,angry=ang,neu");
  EXPECT_EQ(named.names(), (std::vector<std::string>{"happy", "angry", "neu"}));
  EXPECT_EQ(named.index("exc"), 0);
  EXPECT_EQ(named.index("ang"), 1);
  EXPECT_EQ(named.index("angry"), kIgnoreLabel);  // a name is not a label
  EXPECT_EQ(ClassSet::parse(named.spec()), named);
}

TEST(Classes, ParseErrorsSayWhatIsWrong) {
  EXPECT_TRUE(mentions(error_of([] { ClassSet::parse("ang"); }), "at least two classes"));
  EXPECT_TRUE(mentions(error_of([] { ClassSet::parse("ang,,sad"); }), "'' is not a class"));
  EXPECT_TRUE(mentions(error_of([] { ClassSet::parse("ang,hap+,sad"); }), "'hap+' is not a class"));
  EXPECT_TRUE(mentions(error_of([] { ClassSet::parse("ang,hap=a=b,sad"); }), "'hap=a=b' is not a class"));
  EXPECT_TRUE(mentions(error_of([] { ClassSet::parse("ang,=hap,sad"); }), "'=hap' has an empty name"));
  EXPECT_TRUE(mentions(error_of([] { ClassSet::parse("ang,hap+ang"); }), "label 'ang' is in two classes"));
  EXPECT_TRUE(mentions(error_of([] { ClassSet::parse("x=ang,x=sad"); }), "two classes are named 'x'"));
}

TEST(Classes, TheCorpusDefaultIsEveryLabelButTheOnesThePaperLeavesOut) {
  // IEMOCAP's labels give the paper's six.
  EXPECT_EQ(ClassSet::of_corpus(
                labelled({"xxx", "sad", "neu", "fru", "oth", "hap", "exc", "sur", "ang", "fea", "dis", "ang"})),
            ClassSet::paper());
  // Any other corpus: its labels, alphabetical; an empty label is unlabelled.
  const ClassSet own = ClassSet::of_corpus(labelled({"neutral", "", "angry", "joy, mild", "neutral", "xxx"}));
  EXPECT_EQ(own.names(), (std::vector<std::string>{"angry", "joy, mild", "neutral"}));
  EXPECT_EQ(own.index(""), kIgnoreLabel);
  EXPECT_TRUE(mentions(error_of([] { ClassSet::of_corpus(labelled({"calm", "xxx", ""})); }), "1 class label(s)"));
}

TEST(Classes, ConfigJsonFormReadsBackAnyLabel) {
  const ClassSet own = ClassSet::of_corpus(labelled({"joy, mild", "a+b", "x=y"}));  // what --classes cannot spell
  EXPECT_EQ(ClassSet::from_json(own.to_json(), "config.json"), own);
  const ClassSet four = ClassSet::parse("ang,happy=hap+exc,neu,sad");
  EXPECT_EQ(four.to_json().dump(), R"([{"labels":["ang"],"name":"ang"},{"labels":["hap","exc"],"name":"happy"},)"
                                   R"({"labels":["neu"],"name":"neu"},{"labels":["sad"],"name":"sad"}])");
  EXPECT_EQ(ClassSet::from_json(four.to_json(), "config.json"), four);
  EXPECT_TRUE(mentions(error_of([] { ClassSet::from_json(nlohmann::json::parse(R"([{"name": "a"}])"), "run/c.json"); }),
                       "run/c.json: classes:"));
  EXPECT_TRUE(mentions(
      error_of([] {
        ClassSet::from_json(
            nlohmann::json::parse(R"([{"name": "a", "labels": ["x"]}, {"name": "b", "labels": ["x"]}])"), "run/c.json");
      }),
      "run/c.json: label 'x' is in two classes"));
  EXPECT_TRUE(mentions(error_of([] { ClassSet::from_json(nlohmann::json::parse(R"("ang,sad")"), "run/c.json"); }),
                       "run/c.json: classes must be a list"));
}
