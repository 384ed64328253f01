// fixed_affine: the part of y = requant(x * scale + shift) (a BatchNorm that could not fold)
// that every affine layer shares. The layer module computes each element's product
// x[i] * scale[channel of i] (exact, at fraction bits IN_FRAC + SCALE_FRAC) from its constant
// scales; this module moves each product to the accumulator's fraction bits
// (PRODUCT_SHIFT = ACC_FRAC - IN_FRAC - SCALE_FRAC), adds the element's shift (codes at ACC_FRAC),
// or subtracts the product from it where SUBTRACT marks the element (its wire holds minus the
// product, as for a negative scale), and requantises to the output format. Purely combinational.
module fixed_affine #(
    parameter int SIZE = 1,
    parameter int PRODUCT_WIDTH = 16,  // signed products, element i at [i*PRODUCT_WIDTH +: PRODUCT_WIDTH]
    parameter int PRODUCT_SHIFT = 0,
    parameter int SHIFT_WIDTH = 8,     // signed shift codes, element i at [i*SHIFT_WIDTH +: SHIFT_WIDTH]
    parameter logic [SIZE*SHIFT_WIDTH-1:0] SHIFT = '0,
    parameter int ACC_WIDTH = 17,      // signed, wide enough for every product plus shift (exact)
    parameter int ACC_FRAC = 8,
    parameter int OUT_WIDTH = 8,
    parameter int OUT_FRAC = 4,
    parameter bit OUT_SIGNED = 1'b1,
    parameter bit HALF_ADDED = 1'b0,  // the offsets hold half an output step (see fixed_requant)
    parameter logic [SIZE-1:0] SUBTRACT = '0  // bit i: the product wire holds minus the product, so it is subtracted
) (
    input  logic [SIZE*PRODUCT_WIDTH-1:0] products,
    output logic [SIZE*OUT_WIDTH-1:0]     data_out
);
    for (genvar i = 0; i < SIZE; i++) begin : g_element
        // a shift that narrows the range can make ACC_WIDTH smaller than the product: its top bits are then
        // not needed, since the accumulator holds the exact result (taken modulo 2^ACC_WIDTH, it is the same)
        /* verilator lint_off UNUSEDSIGNAL */
        logic signed [PRODUCT_WIDTH-1:0] product;
        /* verilator lint_on UNUSEDSIGNAL */
        logic signed [SHIFT_WIDTH-1:0] shift;
        logic signed [ACC_WIDTH-1:0] acc;
        assign product = products[i*PRODUCT_WIDTH +: PRODUCT_WIDTH];
        assign shift = SHIFT[i*SHIFT_WIDTH +: SHIFT_WIDTH];
        if (SUBTRACT[i]) begin : g_subtract
            assign acc = ACC_WIDTH'(shift) - (ACC_WIDTH'(product) <<< PRODUCT_SHIFT);
        end else begin : g_add
            assign acc = (ACC_WIDTH'(product) <<< PRODUCT_SHIFT) + ACC_WIDTH'(shift);
        end
        fixed_requant #(
            .IN_WIDTH(ACC_WIDTH), .IN_FRAC(ACC_FRAC), .IN_SIGNED(1'b1),
            .OUT_WIDTH(OUT_WIDTH), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
            .HALF_ADDED(HALF_ADDED)
        ) u_requant (.data_in(acc), .data_out(data_out[i*OUT_WIDTH +: OUT_WIDTH]));
    end
endmodule
