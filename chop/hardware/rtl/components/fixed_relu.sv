// fixed_relu: y = requant(max(x, 0)) on each of SIZE elements (element i at [i*WIDTH +: WIDTH]).
// Purely combinational; the layer module around it holds the register stage.
module fixed_relu #(
    parameter int SIZE = 1,
    parameter int IN_WIDTH = 8,
    parameter int IN_FRAC = 4,
    parameter bit IN_SIGNED = 1'b1,
    parameter int OUT_WIDTH = 8,
    parameter int OUT_FRAC = 4,
    parameter bit OUT_SIGNED = 1'b1
) (
    input  logic [SIZE*IN_WIDTH-1:0]  data_in,
    output logic [SIZE*OUT_WIDTH-1:0] data_out
);
    for (genvar i = 0; i < SIZE; i++) begin : g_element
        logic [IN_WIDTH-1:0] x, clipped;
        assign x = data_in[i*IN_WIDTH +: IN_WIDTH];
        // a negative input (sign bit set, signed formats only) becomes zero
        assign clipped = (IN_SIGNED && x[IN_WIDTH-1]) ? '0 : x;
        fixed_requant #(
            .IN_WIDTH(IN_WIDTH), .IN_FRAC(IN_FRAC), .IN_SIGNED(IN_SIGNED),
            .OUT_WIDTH(OUT_WIDTH), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED)
        ) u_requant (.data_in(clipped), .data_out(data_out[i*OUT_WIDTH +: OUT_WIDTH]));
    end
endmodule
