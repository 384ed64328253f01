// fixed_add: y = requant(a + b) on each of SIZE element pairs. Both operands move to the
// accumulator's fraction bits (ACC_FRAC >= A_FRAC, B_FRAC), the sum is exact (ACC_WIDTH holds
// every sum), and the only rounding is the requantisation to the output format.
// Purely combinational; the layer module around it holds the register stage.
module fixed_add #(
    parameter int SIZE = 1,
    parameter int A_WIDTH = 8,
    parameter int A_FRAC = 4,
    parameter bit A_SIGNED = 1'b1,
    parameter int B_WIDTH = 8,
    parameter int B_FRAC = 4,
    parameter bit B_SIGNED = 1'b1,
    parameter int ACC_WIDTH = 9,
    parameter int ACC_FRAC = 4,
    parameter int OUT_WIDTH = 8,
    parameter int OUT_FRAC = 4,
    parameter bit OUT_SIGNED = 1'b1
) (
    input  logic [SIZE*A_WIDTH-1:0]   data_in_0,
    input  logic [SIZE*B_WIDTH-1:0]   data_in_1,
    output logic [SIZE*OUT_WIDTH-1:0] data_out
);
    for (genvar i = 0; i < SIZE; i++) begin : g_element
        // each operand as a signed number (one bit more for unsigned formats)
        logic signed [A_WIDTH:0] a;
        logic signed [B_WIDTH:0] b;
        logic signed [ACC_WIDTH-1:0] acc;
        assign a = $signed({A_SIGNED & data_in_0[i*A_WIDTH+A_WIDTH-1], data_in_0[i*A_WIDTH +: A_WIDTH]});
        assign b = $signed({B_SIGNED & data_in_1[i*B_WIDTH+B_WIDTH-1], data_in_1[i*B_WIDTH +: B_WIDTH]});
        assign acc = (ACC_WIDTH'(a) <<< (ACC_FRAC - A_FRAC)) + (ACC_WIDTH'(b) <<< (ACC_FRAC - B_FRAC));
        fixed_requant #(
            .IN_WIDTH(ACC_WIDTH), .IN_FRAC(ACC_FRAC), .IN_SIGNED(1'b1),
            .OUT_WIDTH(OUT_WIDTH), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED)
        ) u_requant (.data_in(acc), .data_out(data_out[i*OUT_WIDTH +: OUT_WIDTH]));
    end
endmodule
