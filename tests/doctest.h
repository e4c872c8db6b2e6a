#pragma once
// doctest, as dhtalk's tests include it. OpenDHT's Logger has members named
// WARN and ERR, which doctest's short WARN macro would rewrite in any file
// that includes OpenDHT after doctest (a unity build joins test files in any
// order). So the short WARN goes: write DOCTEST_WARN.
#include <doctest/doctest.h>

#undef WARN
