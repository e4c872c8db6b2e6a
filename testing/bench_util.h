#pragma once
// Small helpers for the benchmarks: percentiles, resident memory, wall time,
// plots.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace dhtalk::bench {

// The q-quantile (0..1) of `v` by nearest rank; 0 for an empty sample.
inline double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
    return v[i];
}

// Resident set size of this process, or of process `pid`, in bytes (from
// /proc/<pid>/status); 0 if it cannot be read.
inline uint64_t rss_bytes(int pid = 0) {
    std::ifstream in(pid ? "/proc/" + std::to_string(pid) + "/status" : std::string("/proc/self/status"));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

// CPU time (user + system) process `pid` has used, or this process (0), in
// seconds (from /proc/<pid>/stat); 0 if it cannot be read.
inline double cpu_seconds(int pid = 0) {
    std::ifstream in(pid ? "/proc/" + std::to_string(pid) + "/stat" : std::string("/proc/self/stat"));
    std::string line;
    if (!std::getline(in, line)) return 0;
    // Fields after the command name, which may hold spaces: ") state ppid ...";
    // utime and stime are the 14th and 15th fields of the line.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i)
        if (i >= 14) ticks += std::stod(field);
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Real elapsed time, even in a program whose steady_clock is virtual
// (sim/virtual_time.h interposes CLOCK_MONOTONIC, not CLOCK_MONOTONIC_RAW).
inline double wall_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Writes DIR/STEM.dat (a row per x: x then one value per series), DIR/STEM.gp
// and, with gnuplot, DIR/STEM.png: the series against x on log-log axes.
// Says on stderr when there is no picture (no gnuplot).
inline void plot_loglog(const std::string& dir, const std::string& stem, const std::string& x_label,
                        const std::string& y_label, const std::vector<std::string>& series,
                        const std::vector<std::pair<double, std::vector<double>>>& rows) {
    std::ofstream dat(dir + "/" + stem + ".dat");
    for (const auto& [x, ys] : rows) {
        dat << x;
        for (double y : ys) dat << " " << y;
        dat << "\n";
    }
    dat.close();
    std::ofstream gp(dir + "/" + stem + ".gp");
    gp << "set terminal pngcairo size 800,500\nset output '" << stem << ".png'\nset logscale xy\nset grid\n"
       << "set xlabel '" << x_label << "'\nset ylabel '" << y_label << "'\nset key top left\nplot ";
    for (size_t i = 0; i < series.size(); ++i)
        gp << (i ? ", " : "") << "'" << stem << ".dat' using 1:" << i + 2 << " with linespoints lw 2 title '"
           << series[i] << "'";
    gp << "\n";
    gp.close();
    const std::string cmd = "cd '" + dir + "' && gnuplot " + stem + ".gp";
    if (dir.find('\'') != std::string::npos || std::system(cmd.c_str()) != 0)
        std::fprintf(stderr, "no plot: gnuplot failed or is not installed; the data is in %s\n", dir.c_str());
}

}  // namespace dhtalk::bench
