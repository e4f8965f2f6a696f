#include "reports/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/math/distributions/students_t.hpp>

#include "common/error.h"

namespace ptbench::reports {

double student_t_critical(double confidence, std::size_t degrees_of_freedom) {
  if (!(confidence > 0 && confidence < 1)) fail("confidence level must lie in (0, 1), got ", confidence);
  if (degrees_of_freedom == 0) fail("a Student-t interval needs at least two values");
  const boost::math::students_t distribution(static_cast<double>(degrees_of_freedom));
  return boost::math::quantile(distribution, 1.0 - (1.0 - confidence) / 2.0);
}

SampleStats SampleStats::of(const std::vector<double>& values, double confidence) {
  SampleStats stats;
  stats.confidence = confidence;
  stats.n = values.size();
  if (values.empty()) return stats;
  const double count = static_cast<double>(values.size());
  stats.mean = std::accumulate(values.begin(), values.end(), 0.0) / count;
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  stats.min = *low;
  stats.max = *high;
  if (values.size() < 2) return stats;
  double squares = 0;
  for (double v : values) squares += (v - stats.mean) * (v - stats.mean);
  stats.std = std::sqrt(squares / (count - 1.0));
  const double half_width = student_t_critical(confidence, values.size() - 1) * stats.std / std::sqrt(count);
  stats.ci_low = stats.mean - half_width;
  stats.ci_high = stats.mean + half_width;
  return stats;
}

}  // namespace ptbench::reports
