// fixed_linear: the part of y = requant(x @ W^T + b) that every linear layer shares. The layer
// module computes each row's sum of products x[i] * W[j][i] (exact, at fraction bits
// IN_FRAC + WEIGHT_FRAC) from its constant weights; this module moves each sum to the
// accumulator's fraction bits (PRODUCT_SHIFT = ACC_FRAC - IN_FRAC - WEIGHT_FRAC), adds the bias
// (codes at ACC_FRAC), or subtracts the sum from it where SUBTRACT marks the row (its wire holds
// minus the sum), and requantises to the output format. Purely combinational.
module fixed_linear #(
    parameter int ROWS = 1,
    parameter int SUM_WIDTH = 16,     // signed row sums, row j at [j*SUM_WIDTH +: SUM_WIDTH]
    parameter int PRODUCT_SHIFT = 0,
    parameter int BIAS_WIDTH = 8,     // signed bias codes, row j at [j*BIAS_WIDTH +: BIAS_WIDTH]
    parameter logic [ROWS*BIAS_WIDTH-1:0] BIAS = '0,
    parameter int ACC_WIDTH = 17,     // signed, wide enough for every sum plus bias (exact)
    parameter int ACC_FRAC = 8,
    parameter int OUT_WIDTH = 8,
    parameter int OUT_FRAC = 4,
    parameter bit OUT_SIGNED = 1'b1,
    parameter bit HALF_ADDED = 1'b0,  // the offsets hold half an output step (see fixed_requant)
    parameter logic [ROWS-1:0] SUBTRACT = '0  // bit j: the sum wire holds minus the sum, so it is subtracted
) (
    input  logic [ROWS*SUM_WIDTH-1:0] sums,
    output logic [ROWS*OUT_WIDTH-1:0] data_out
);
    for (genvar j = 0; j < ROWS; j++) begin : g_row
        // a bias that narrows the range can make ACC_WIDTH smaller than the sum: its top bits are then
        // not needed, since the accumulator holds the exact result (taken modulo 2^ACC_WIDTH, it is the same)
        /* verilator lint_off UNUSEDSIGNAL */
        logic signed [SUM_WIDTH-1:0] sum;
        /* verilator lint_on UNUSEDSIGNAL */
        logic signed [BIAS_WIDTH-1:0] bias;
        logic signed [ACC_WIDTH-1:0] acc;
        assign sum = sums[j*SUM_WIDTH +: SUM_WIDTH];
        assign bias = BIAS[j*BIAS_WIDTH +: BIAS_WIDTH];
        if (SUBTRACT[j]) begin : g_subtract
            assign acc = ACC_WIDTH'(bias) - (ACC_WIDTH'(sum) <<< PRODUCT_SHIFT);
        end else begin : g_add
            assign acc = (ACC_WIDTH'(sum) <<< PRODUCT_SHIFT) + ACC_WIDTH'(bias);
        end
        fixed_requant #(
            .IN_WIDTH(ACC_WIDTH), .IN_FRAC(ACC_FRAC), .IN_SIGNED(1'b1),
            .OUT_WIDTH(OUT_WIDTH), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
            .HALF_ADDED(HALF_ADDED)
        ) u_requant (.data_in(acc), .data_out(data_out[j*OUT_WIDTH +: OUT_WIDTH]));
    end
endmodule
