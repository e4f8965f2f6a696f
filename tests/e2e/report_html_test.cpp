// `ptbench report` end to end on the fixture records (tests/fixtures/records): the HTML page is
// one self-contained file whose every chart is well-formed SVG and renders in headless Chromium
// (Debian chromium); --check exits non-zero naming the cell of a planted regression; a missing
// gnuplot is a clear error naming the Debian package.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "tests/test_support.h"

namespace ptbench {
namespace {

namespace fs = std::filesystem;
using testing::fixtures_dir;
using testing::ptbench_binary;
using testing::temp_dir;
using testing::run_shell;
using testing::CommandResult;

std::string quote(const fs::path& path) { return "'" + path.string() + "'"; }

std::string report_command(const std::string& arguments) {
  const fs::path records = fixtures_dir() / "records";
  return quote(ptbench_binary()) + " report " + quote(records / "basic") + " " + arguments;
}

bool have_program(const std::string& name) { return run_shell("command -v " + name).exit_code == 0; }

// Every <svg>…</svg> element of the page, in order.
std::vector<std::string> svg_elements(const std::string& html) {
  std::vector<std::string> elements;
  std::size_t at = 0;
  while ((at = html.find("<svg", at)) != std::string::npos) {
    const std::size_t end = html.find("</svg>", at);
    if (end == std::string::npos) break;
    elements.push_back(html.substr(at, end + 6 - at));
    at = end + 6;
  }
  return elements;
}

TEST(ReportCliHtml, OneSelfContainedPageWhoseChartsRenderInChromium) {
  if (!have_program("gnuplot")) GTEST_SKIP() << "gnuplot not installed (Debian package gnuplot-nox): no charts to test";
  const fs::path out = temp_dir("report-html");
  const CommandResult made = run_shell(report_command("--reference " + quote(fixtures_dir() / "records" / "reference.json") +
                                                " --format md,html --out " + quote(out)));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_TRUE(fs::exists(out / "report.md"));
  const std::string html = read_text_file(out / "report.html");

  // Self-contained: nothing fetched from elsewhere, no scripts.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);

  // Six charts (score and seed spread for rte and squad, cost bars for both), each one
  // well-formed SVG inside its own figure, and no id used twice in the page.
  const std::vector<std::string> svgs = svg_elements(html);
  std::size_t figures = 0;
  for (std::size_t at = 0; (at = html.find("<figure class=\"chart\"", at)) != std::string::npos; ++at) ++figures;
  ASSERT_EQ(figures, 6u);
  ASSERT_EQ(svgs.size(), figures);
  for (const std::string& svg : svgs) {
    std::istringstream stream(svg);
    boost::property_tree::ptree tree;
    EXPECT_NO_THROW(boost::property_tree::read_xml(stream, tree)) << svg.substr(0, 200);
    EXPECT_NE(svg.find("<path"), std::string::npos);  // something was drawn
  }
  std::map<std::string, int> ids;
  const std::regex id_pattern(R"(\bid=['"]([^'"]+)['"])");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), id_pattern); it != std::sregex_iterator(); ++it) ++ids[(*it)[1]];
  for (const auto& [id, count] : ids) EXPECT_EQ(count, 1) << "id '" << id << "' appears " << count << " times";

  if (!have_program("chromium")) {
    GTEST_SKIP() << "chromium not installed (Debian package chromium): the page was checked as text only";
  }
  // A copy of the page with a probe that measures every chart as the browser laid it out and
  // writes the figures into the DOM, which headless Chromium then dumps.
  std::string probe_page = html;
  const std::string probe = R"(<pre id="chart-probe"></pre><script>
window.addEventListener('load', function () {
  var rows = [];
  document.querySelectorAll('figure.chart').forEach(function (figure) {
    var svg = figure.querySelector('svg');
    var box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    rows.push({id: figure.id, width: box.width, height: box.height,
               drawn: svg ? svg.querySelectorAll('path, text, use, rect').length : 0});
  });
  document.getElementById('chart-probe').textContent = JSON.stringify(rows);
});
</script>)";
  probe_page.insert(probe_page.rfind("</body>"), probe);
  write_file_atomic(out / "probe.html", probe_page);
  const CommandResult dumped = run_shell("timeout 120 chromium --headless --disable-gpu --no-sandbox --no-first-run "
                                   "--user-data-dir=" + quote(out / "chromium-profile") +
                                   " --virtual-time-budget=5000 --dump-dom " + quote("file://" + (out / "probe.html").string()));
  ASSERT_EQ(dumped.exit_code, 0) << dumped.output.substr(0, 2000);
  EXPECT_NE(dumped.output.find("<h2>Results</h2>"), std::string::npos);
  const std::size_t start = dumped.output.find("<pre id=\"chart-probe\">");
  ASSERT_NE(start, std::string::npos) << dumped.output.substr(0, 2000);
  const std::size_t body = start + std::string("<pre id=\"chart-probe\">").size();
  const std::string text = dumped.output.substr(body, dumped.output.find("</pre>", body) - body);
  nlohmann::json rows;
  ASSERT_NO_THROW(rows = nlohmann::json::parse(text)) << text;
  ASSERT_EQ(rows.size(), figures) << text;
  for (const nlohmann::json& row : rows) {
    EXPECT_GT(row["width"].get<double>(), 100) << row.dump();
    EXPECT_GT(row["height"].get<double>(), 100) << row.dump();
    EXPECT_GT(row["drawn"].get<int>(), 10) << row.dump();
  }
}

TEST(ReportCliCheck, PlantedRegressionFailsNamingTheCell) {
  const fs::path records = fixtures_dir() / "records";
  const CommandResult passed = run_shell(report_command("--format none --check " + quote(records / "baseline.json")));
  EXPECT_EQ(passed.exit_code, 0) << passed.output;
  EXPECT_NE(passed.output.find("all 3 baseline cells within tolerance"), std::string::npos) << passed.output;

  const CommandResult failed = run_shell(report_command("--format none --check " + quote(records / "baseline_regression.json")));
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_NE(failed.output.find("FAIL tiny-bert / rte / full"), std::string::npos) << failed.output;
  EXPECT_NE(failed.output.find("regression: accuracy 72.0000 < expected 80.0000 - tolerance 1.0000"), std::string::npos)
      << failed.output;
  EXPECT_NE(failed.output.find("rewrite the baseline: ptbench report"), std::string::npos) << failed.output;
}

TEST(ReportCliCheck, WriteBaselineThenCheckPasses) {
  const fs::path out = temp_dir("report-baseline");
  const CommandResult written = run_shell(report_command("--format none --write-baseline " + quote(out / "ci.json")));
  ASSERT_EQ(written.exit_code, 0) << written.output;
  const nlohmann::json baseline = read_json_file(out / "ci.json");
  EXPECT_EQ(baseline["cells"].size(), 4u);
  const CommandResult checked = run_shell(report_command("--format none --check " + quote(out / "ci.json")));
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
}

TEST(ReportCliHtml, MissingGnuplotNamesTheDebianPackage) {
  const fs::path out = temp_dir("report-nognuplot");
  const CommandResult result = run_shell("env PATH=/nonexistent " + report_command("--format html --out " + quote(out)));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("gnuplot-nox"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(out / "report.html"));
}

}  // namespace
}  // namespace ptbench
