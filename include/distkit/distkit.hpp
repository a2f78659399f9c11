// distkit: distributed systems primitives for C++ services, backed by Redis.
#pragma once

#include "distkit/client.hpp"
#include "distkit/comparator.hpp"
#include "distkit/counter.hpp"
#include "distkit/error.hpp"
#include "distkit/instance_aware_counter.hpp"
#include "distkit/lax_counter.hpp"
#include "distkit/lax_instance_aware_counter.hpp"
#include "distkit/log.hpp"
#include "distkit/redis_key.hpp"
#include "distkit/strict_counter.hpp"
#include "distkit/strict_instance_aware_counter.hpp"
