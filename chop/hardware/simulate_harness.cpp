// Verilator harness for ${TOP}, written by machop (chop/hardware/simulate.py).
//
//   V${TOP} INPUTS OUTPUTS [EXPECTED]
//
// INPUTS: text, one sample per line, ${IN_SIZE} integer codes each. The harness feeds one sample
// per clock cycle with data_in_0_valid high, then keeps valid low until every sample's result has
// come out; each cycle where data_out_0_valid is high gives one result row. OUTPUTS gets one row
// per sample (${OUT_SIZE} codes, sign-extended from ${OUT_WIDTH} bits when the format is signed),
// written to OUTPUTS.tmp first and renamed when complete. With EXPECTED (same layout as OUTPUTS)
// the rows that differ are counted. Last line on stdout:
//   rows R cycles C latency L mismatches M     (M is -1 without EXPECTED)
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "verilated.h"
#include "V${TOP}.h"

static const int IN_SIZE = ${IN_SIZE};
static const int IN_WIDTH = ${IN_WIDTH};
static const int OUT_SIZE = ${OUT_SIZE};
static const int OUT_WIDTH = ${OUT_WIDTH};
static const bool OUT_SIGNED = ${OUT_SIGNED};
static const long MAX_LATENCY = 4096;  // cycles to wait for the last result before giving up

static uint64_t mask(int width) { return width >= 64 ? ~0ULL : (1ULL << width) - 1; }

// Ports up to 64 bits are plain integers in Verilator's model.
template <typename T> static void put(T& port, int lsb, int width, uint64_t value) {
    const uint64_t m = mask(width) << lsb;
    port = static_cast<T>((static_cast<uint64_t>(port) & ~m) | ((value << lsb) & m));
}
template <typename T> static uint64_t take(const T& port, int lsb, int width) {
    return (static_cast<uint64_t>(port) >> lsb) & mask(width);
}
// Wider ports are arrays of 32-bit words (VlWide), least significant word first.
template <std::size_t N> static void put(VlWide<N>& port, int lsb, int width, uint64_t value) {
    for (int done = 0; done < width;) {
        const int bit = lsb + done, word = bit / 32, offset = bit % 32;
        const int count = std::min(32 - offset, width - done);
        const uint32_t m = static_cast<uint32_t>(mask(count)) << offset;
        const uint32_t bits = static_cast<uint32_t>((value >> done) & mask(count)) << offset;
        port[word] = (port[word] & ~m) | bits;
        done += count;
    }
}
template <std::size_t N> static uint64_t take(const VlWide<N>& port, int lsb, int width) {
    uint64_t value = 0;
    for (int done = 0; done < width;) {
        const int bit = lsb + done, word = bit / 32, offset = bit % 32;
        const int count = std::min(32 - offset, width - done);
        value |= static_cast<uint64_t>((port[word] >> offset) & static_cast<uint32_t>(mask(count))) << done;
        done += count;
    }
    return value;
}

static int64_t sign_extend(uint64_t bits, int width, bool is_signed) {
    if (is_signed && width < 64 && ((bits >> (width - 1)) & 1)) return static_cast<int64_t>(bits | ~mask(width));
    return static_cast<int64_t>(bits);
}

static std::vector<int64_t> read_codes(const char* path) {
    FILE* file = std::fopen(path, "r");
    if (!file) {
        std::fprintf(stderr, "cannot read %s: %s\n", path, std::strerror(errno));
        std::exit(2);
    }
    std::vector<int64_t> codes;
    long long value;
    while (std::fscanf(file, "%lld", &value) == 1) codes.push_back(value);
    std::fclose(file);
    return codes;
}

static void fail(const char* message) {
    std::fprintf(stderr, "%s\n", message);
    std::exit(3);
}

int main(int argc, char** argv) {
    if (argc < 3) fail("usage: V${TOP} INPUTS OUTPUTS [EXPECTED]");
    const std::vector<int64_t> inputs = read_codes(argv[1]);
    if (inputs.size() % IN_SIZE != 0) fail("the input file does not hold whole samples of ${IN_SIZE} codes");
    const long rows = static_cast<long>(inputs.size() / IN_SIZE);

    const std::unique_ptr<VerilatedContext> context{new VerilatedContext};
    const std::unique_ptr<V${TOP}> top{new V${TOP}{context.get()}};
    top->clk = 0;
    top->rst = 1;
    top->data_in_0_valid = 0;
    for (int i = 0; i < 2; i++) {  // two reset cycles
        top->clk = 0;
        top->eval();
        top->clk = 1;
        top->eval();
    }
    top->rst = 0;

    std::vector<int64_t> outputs(static_cast<std::size_t>(rows) * OUT_SIZE);
    long fed = 0, got = 0, cycle = 0, latency = -1;
    while (got < rows) {
        if (fed < rows) {
            top->data_in_0_valid = 1;
            for (int i = 0; i < IN_SIZE; i++)
                put(top->data_in_0, i * IN_WIDTH, IN_WIDTH, static_cast<uint64_t>(inputs[fed * IN_SIZE + i]));
        } else {
            top->data_in_0_valid = 0;
            if (cycle - rows > MAX_LATENCY) fail("the design stopped producing results (more than 4096 cycles)");
        }
        top->clk = 0;
        top->eval();  // the outputs of this cycle: registers hold earlier samples, logic sees this one
        if (top->data_out_0_valid) {
            if (latency < 0) latency = cycle;
            for (int i = 0; i < OUT_SIZE; i++)
                outputs[got * OUT_SIZE + i] = sign_extend(take(top->data_out_0, i * OUT_WIDTH, OUT_WIDTH),
                                                          OUT_WIDTH, OUT_SIGNED);
            got++;
        }
        top->clk = 1;
        top->eval();
        if (fed < rows) fed++;
        cycle++;
    }
    top->final();

    const std::string temporary = std::string(argv[2]) + ".tmp";
    FILE* out = std::fopen(temporary.c_str(), "w");
    if (!out) fail("cannot write the output file");
    for (long r = 0; r < rows; r++)
        for (int i = 0; i < OUT_SIZE; i++)
            std::fprintf(out, i + 1 < OUT_SIZE ? "%lld " : "%lld\n", static_cast<long long>(outputs[r * OUT_SIZE + i]));
    if (std::fclose(out) != 0 || std::rename(temporary.c_str(), argv[2]) != 0) fail("cannot write the output file");

    long mismatches = -1;
    if (argc > 3) {
        const std::vector<int64_t> expected = read_codes(argv[3]);
        if (expected.size() != outputs.size()) fail("the expected file does not hold one row per sample");
        mismatches = 0;
        for (long r = 0; r < rows; r++)
            for (int i = 0; i < OUT_SIZE; i++)
                if (outputs[r * OUT_SIZE + i] != expected[r * OUT_SIZE + i]) {
                    mismatches++;
                    break;
                }
    }
    std::printf("rows %ld cycles %ld latency %ld mismatches %ld\n", rows, cycle, latency, mismatches);
    return mismatches > 0 ? 1 : 0;
}
