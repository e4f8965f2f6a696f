#include "reports/charts.h"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <boost/process.hpp>

#include "common/error.h"
#include "common/files.h"

namespace ptbench::reports {
namespace fs = std::filesystem;

namespace {

// A string inside gnuplot double quotes.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

// A string field of a gnuplot data block: double quotes cannot be escaped there.
std::string data_string(std::string text) {
  std::replace(text.begin(), text.end(), '"', '\'');
  if (text.size() > 48) text = text.substr(0, 45) + "...";
  return "\"" + text + "\"";
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

std::string anchor(const std::string& text) {
  std::string id;
  for (char c : text) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(lower))) id += lower;
    else if (!id.empty() && id.back() != '-') id += '-';
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id;
}

// Error bar ends: the confidence interval clipped to the 0–100 score scale (an interval from two
// seeds can be far wider than any score), or the mean itself for one seed.
double bar_low(const SampleStats& s) { return s.has_ci() ? std::max(0.0, s.ci_low) : s.mean; }
double bar_high(const SampleStats& s) { return s.has_ci() ? std::min(100.0, s.ci_high) : s.mean; }

void begin_chart(std::ostringstream& gp, const fs::path& output, const std::string& title, int width, int height) {
  gp << "reset\n"
     << "set terminal svg size " << width << "," << height << " noenhanced font \"sans,11\" background rgb \"white\"\n"
     << "set output " << quoted(output.string()) << "\n"
     << "set title " << quoted(title) << "\n"
     << "set grid\n"
     << "set key outside right top vertical\n";
}

std::string cell_short_label(const Cell& cell, bool with_backbone) {
  std::string label = cell.method;
  if (!cell.variant.empty()) label += " " + cell.variant;
  if (with_backbone) label = cell.backbone + " " + label;
  return label;
}

}  // namespace

std::string gnuplot_program(const Report& report, const fs::path& output_dir, std::vector<Chart>& charts) {
  std::ostringstream gp;
  gp << "# ptbench report charts: one gnuplot program, one SVG file per chart\n";
  int block = 0;
  std::set<std::string> used_ids;
  auto add_chart = [&](std::string id, const std::string& title, const std::string& caption) -> fs::path {
    id = anchor(id);
    while (used_ids.count(id)) id += "-x";
    used_ids.insert(id);
    charts.push_back({id, title, caption, ""});
    return output_dir / (id + ".svg");
  };

  // Cells with scores, per task in table order.
  std::vector<std::string> tasks;
  std::map<std::string, std::vector<std::size_t>> by_task;
  for (std::size_t i = 0; i < report.cells.size(); ++i) {
    const Cell& cell = report.cells[i];
    if (cell.scored.empty()) continue;
    if (!by_task.count(cell.task)) tasks.push_back(cell.task);
    by_task[cell.task].push_back(i);
  }

  for (const std::string& task : tasks) {
    const std::vector<std::size_t>& members = by_task[task];
    std::set<std::string> backbones, metrics;
    for (std::size_t i : members) {
      backbones.insert(report.cells[i].backbone);
      metrics.insert(report.cells[i].primary_metric);
    }
    const bool several_backbones = backbones.size() > 1;
    const std::string metric = metrics.size() == 1 ? *metrics.begin() : "primary metric";

    // Score vs trainable parameters (log x): one series per method (and backbone).
    std::map<std::string, std::vector<std::size_t>> series;
    std::vector<std::string> series_order;
    double x_min = INFINITY, x_max = 0;
    for (std::size_t i : members) {
      const Cell& cell = report.cells[i];
      if (!cell.costs.mean.trainable_parameters || *cell.costs.mean.trainable_parameters <= 0) continue;
      const std::string name = several_backbones ? cell.backbone + " " + cell.method : cell.method;
      if (!series.count(name)) series_order.push_back(name);
      series[name].push_back(i);
      x_min = std::min(x_min, *cell.costs.mean.trainable_parameters);
      x_max = std::max(x_max, *cell.costs.mean.trainable_parameters);
    }
    if (!series.empty()) {
      const fs::path out = add_chart("score-" + task, task + ": " + metric + " vs trainable parameters",
                                     "Mean score of each cell against its trainable parameters (log scale); bars span the " +
                                         format_fixed(100 * report.confidence, 0) +
                                         " % confidence interval, clipped to 0–100 (one seed: no bar).");
      begin_chart(gp, out, charts.back().title, 760, 420);
      gp << "set logscale x 10\nset format x \"%.0s%c\"\n"
         << "set xlabel \"trainable parameters (log scale)\"\nset ylabel " << quoted(metric + " (points)") << "\n"
         << "set xrange [" << number(x_min / 3) << ":" << number(x_max * 3) << "]\n"
         << "set offsets 0, 0, 1, 1\n";
      std::vector<std::string> plots;
      int point_type = 7;
      for (const std::string& name : series_order) {
        const std::string data = "$score" + std::to_string(++block);
        gp << data << " << EOD\n";
        for (std::size_t i : series[name]) {
          const Cell& cell = report.cells[i];
          const SampleStats& s = cell.primary;
          gp << number(*cell.costs.mean.trainable_parameters) << " " << number(s.mean) << " " << number(bar_low(s)) << " "
             << number(bar_high(s)) << "\n";
        }
        gp << "EOD\n";
        plots.push_back(data + " using 1:2:3:4 with yerrorbars pt " + std::to_string(point_type) + " ps 1.3 lw 1.5 title " +
                        quoted(name));
        point_type = point_type == 13 ? 5 : point_type + 2;
      }
      gp << "plot ";
      for (std::size_t p = 0; p < plots.size(); ++p) gp << (p ? ", \\\n     " : "") << plots[p];
      gp << "\nunset output\n";
    }

    // Seed spread: every seed's score per cell, and the mean with its interval.
    {
      const fs::path out = add_chart("spread-" + task, task + ": " + metric + " per seed",
                                     "Each dot is one seed's score; the open square is the cell mean with its " +
                                         format_fixed(100 * report.confidence, 0) + " % confidence interval, clipped to 0–100.");
      begin_chart(gp, out, charts.back().title, 760, 460);
      const std::string seeds = "$seeds" + std::to_string(++block);
      const std::string means = "$means" + std::to_string(block);
      std::string tics;
      gp << seeds << " << EOD\n";
      for (std::size_t k = 0; k < members.size(); ++k) {
        for (const auto& [seed, score] : report.cells[members[k]].seed_scores) gp << k + 1 << " " << number(score) << "\n";
      }
      gp << "EOD\n" << means << " << EOD\n";
      for (std::size_t k = 0; k < members.size(); ++k) {
        const SampleStats& s = report.cells[members[k]].primary;
        gp << k + 1 << " " << number(s.mean) << " " << number(bar_low(s)) << " " << number(bar_high(s)) << "\n";
        tics += (k ? ", " : "") + data_string(cell_short_label(report.cells[members[k]], several_backbones)) + " " +
                std::to_string(k + 1);
      }
      gp << "EOD\n"
         << "set xrange [0.5:" << members.size() + 0.5 << "]\n"
         << "set xtics rotate by 30 right (" << tics << ")\n"
         << "set bmargin 9\nset offsets 0, 0, 1, 1\n"
         << "set ylabel " << quoted(metric + " (points)") << "\n"
         << "plot " << means << " using 1:2:3:4 with yerrorbars pt 4 ps 1.6 lw 1.5 title \"mean\", \\\n     " << seeds
         << " using 1:2 with points pt 7 ps 0.9 title \"seed\"\n"
         << "unset output\n";
    }
  }

  // Cost bars per method, one chart per backbone and task: ratios to full fine-tuning where the
  // group has a full cell, else the median step time.
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::size_t>> by_group;
  for (std::size_t i = 0; i < report.cells.size(); ++i) {
    const Cell& cell = report.cells[i];
    if (cell.scored.empty()) continue;
    const std::string group = cell.backbone + " " + cell.task;
    if (!by_group.count(group)) groups.push_back(group);
    by_group[group].push_back(i);
  }
  for (const std::string& group : groups) {
    const std::vector<std::size_t>& members = by_group[group];
    bool has_ratios = false;
    for (std::size_t i : members) has_ratios = has_ratios || !report.cells[i].costs.ratio_to_full.empty();
    const fs::path out =
        add_chart("cost-" + group, group + ": " + (has_ratios ? "cost relative to full fine-tuning" : "median step time"),
                  has_ratios ? "Per method: median step time, peak memory and training FLOPs per example divided by those "
                               "of full fine-tuning of the same backbone and task (1 = as costly)."
                             : "Median training step time per method (no full fine-tuning cell to compare with).");
    begin_chart(gp, out, charts.back().title, 760, 460);
    const std::string data = "$cost" + std::to_string(++block);
    gp << data << " << EOD\n";
    for (std::size_t i : members) {
      const Cell& cell = report.cells[i];
      gp << data_string(cell_short_label(cell, false));
      if (has_ratios) {
        for (const char* name : {"step_ms", "peak_rss_mb", "train_flops_per_example"}) {
          auto it = cell.costs.ratio_to_full.find(name);
          gp << " " << number(it == cell.costs.ratio_to_full.end() ? NAN : it->second);
        }
      } else {
        gp << " " << number(cell.costs.mean.step_ms ? *cell.costs.mean.step_ms : NAN);
      }
      gp << "\n";
    }
    gp << "EOD\n"
       << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n"
       << "set boxwidth 0.9\nset yrange [0:*]\nset xtics rotate by 30 right\nset bmargin 9\n";
    if (has_ratios) {
      gp << "set ylabel \"ratio to full fine-tuning\"\n"
         << "plot " << data << " using 2:xtic(1) title \"step time\", " << data << " using 3 title \"peak memory\", " << data
         << " using 4 title \"train FLOPs/example\"\n";
    } else {
      gp << "set ylabel \"median step time (ms)\"\nplot " << data << " using 2:xtic(1) title \"step time\"\n";
    }
    gp << "unset output\n";
  }
  return gp.str();
}

std::string inline_svg(const std::string& svg, const std::string& prefix) {
  const std::size_t start = svg.find("<svg");
  if (start == std::string::npos) fail("gnuplot wrote no <svg> element");
  std::string body = svg.substr(start);
  body = std::regex_replace(body, std::regex(R"(\bid=(['"]))"), "id=$1" + prefix + "-");
  body = std::regex_replace(body, std::regex(R"(href=(['"])#)"), "href=$1#" + prefix + "-");
  body = std::regex_replace(body, std::regex(R"(url\(#)"), "url(#" + prefix + "-");
  return body;
}

std::vector<Chart> draw_charts(const Report& report) {
  const boost::filesystem::path gnuplot = boost::process::search_path("gnuplot");
  if (gnuplot.empty()) {
    fail("gnuplot not found on PATH: the HTML report draws its charts with it. Install the Debian package "
         "gnuplot-nox (apt-get install gnuplot-nox), or write markdown only with --format md");
  }
  std::string pattern = (fs::temp_directory_path() / "ptbench-charts-XXXXXX").string();
  if (!mkdtemp(pattern.data())) fail("cannot create a temporary folder for the charts under ", fs::temp_directory_path().string());
  const fs::path work(pattern);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{work};

  std::vector<Chart> charts;
  const std::string program = gnuplot_program(report, work, charts);
  if (charts.empty()) return charts;
  write_file_atomic(work / "charts.gp", program);
  const fs::path errors = work / "gnuplot.err";
  boost::process::child child(gnuplot, (work / "charts.gp").string(), boost::process::std_out > boost::process::null,
                              boost::process::std_err > errors.string(), boost::process::std_in < boost::process::null);
  child.wait();
  std::string messages;
  std::error_code ec;
  if (fs::exists(errors, ec)) messages = read_text_file(errors);
  if (child.exit_code() != 0) {
    fail("gnuplot failed (exit ", child.exit_code(), ") drawing the report charts: ", messages.substr(0, 2000));
  }
  for (Chart& chart : charts) {
    const fs::path file = work / (chart.id + ".svg");
    if (!fs::exists(file, ec)) fail("gnuplot wrote no ", file.filename().string(), ": ", messages.substr(0, 2000));
    chart.svg = inline_svg(read_text_file(file), chart.id);
  }
  return charts;
}

}  // namespace ptbench::reports
