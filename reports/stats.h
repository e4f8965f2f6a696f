// Summary statistics of one cell's scores over seeds: mean, sample standard deviation,
// min/max and a Student-t confidence interval of the mean (DESIGN.md "Report").
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

namespace ptbench::reports {

struct SampleStats {
  std::size_t n = 0;
  double mean = std::numeric_limits<double>::quiet_NaN();
  double std = std::numeric_limits<double>::quiet_NaN();  // sample (n − 1) standard deviation; NaN for n < 2
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
  double ci_low = std::numeric_limits<double>::quiet_NaN();   // mean − t(1 − α/2, n − 1) · std / √n; NaN for n < 2
  double ci_high = std::numeric_limits<double>::quiet_NaN();  // mean + the same half-width
  double confidence = 0.95;                                   // level of [ci_low, ci_high]

  // `values` may be empty (n = 0, everything NaN). `confidence` in (0, 1).
  static SampleStats of(const std::vector<double>& values, double confidence = 0.95);
  bool has_ci() const { return n >= 2; }
  // Whether `value` lies in [ci_low, ci_high] (false when there is no interval).
  bool ci_contains(double value) const { return has_ci() && value >= ci_low && value <= ci_high; }
};

// The two-sided Student-t critical value t(1 − (1 − confidence)/2, dof), e.g. 4.3027 for
// confidence 0.95 and dof 2 (Boost.Math's students_t quantile).
double student_t_critical(double confidence, std::size_t degrees_of_freedom);

}  // namespace ptbench::reports
