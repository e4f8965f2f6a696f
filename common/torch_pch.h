// Precompiled header for every target that uses LibTorch: its headers dominate compile time.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
