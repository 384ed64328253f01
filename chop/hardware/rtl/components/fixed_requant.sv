// fixed_requant: one fixed-point value moved to another format, exactly as machop's
// FixedFormat.requantize: the dropped fraction bits round half to even, then the value saturates
// to the output's range. Purely combinational.
//
// A value of format (WIDTH, FRAC, SIGNED) is the integer code c = v * 2^FRAC.
//
// HALF_ADDED = 1 says the caller has already added half a step of the output (2^(DROP-1)) to
// the value, folded into a constant it adds anyway (a bias): then rounding half to even needs no
// incrementer. floor((c + 2^(DROP-1)) / 2^DROP) rounds half up, and differs from half to even only
// on a tie (the dropped bits of c + 2^(DROP-1) all 0) with an odd result: clearing the result's
// lowest bit on a tie gives half to even. Without dropped bits HALF_ADDED must be 0.
module fixed_requant #(
    parameter int IN_WIDTH = 16,
    parameter int IN_FRAC = 8,
    parameter bit IN_SIGNED = 1'b1,
    parameter int OUT_WIDTH = 8,
    parameter int OUT_FRAC = 4,
    parameter bit OUT_SIGNED = 1'b1,
    parameter bit HALF_ADDED = 1'b0
) (
    input  logic [IN_WIDTH-1:0]  data_in,
    output logic [OUT_WIDTH-1:0] data_out
);
    // fraction bits dropped (SHIFT > 0) or appended as zeros (SHIFT < 0)
    localparam int SHIFT = IN_FRAC - OUT_FRAC;
    localparam int DROP = SHIFT > 0 ? SHIFT : 0;
    localparam int PAD = SHIFT < 0 ? -SHIFT : 0;
    // the input as a signed number: one bit more, so unsigned inputs keep a zero sign bit
    localparam int VALUE_WIDTH = IN_WIDTH + 1;
    // sign-extended far enough that the kept part has a spare sign bit for the rounding carry
    localparam int EXT_WIDTH = (VALUE_WIDTH > DROP + 1 ? VALUE_WIDTH : DROP + 1) + 1;
    // the moved value: the kept bits (+ the rounding step), or the input with PAD zeros below
    localparam int MOVED_WIDTH = DROP > 0 ? EXT_WIDTH - DROP : VALUE_WIDTH + PAD;
    // the width the saturation test looks at: at least one bit above the output's
    localparam int SAT_WIDTH = MOVED_WIDTH > OUT_WIDTH ? MOVED_WIDTH : OUT_WIDTH + 1;

    logic signed [VALUE_WIDTH-1:0] value;
    logic signed [MOVED_WIDTH-1:0] moved;
    logic signed [SAT_WIDTH-1:0] wide;

    if (IN_SIGNED) begin : g_signed_in
        assign value = $signed({data_in[IN_WIDTH-1], data_in});
    end else begin : g_unsigned_in
        assign value = $signed({1'b0, data_in});
    end

    if (DROP > 0 && HALF_ADDED) begin : g_round_added
        // half a step already added: the kept bits, their lowest cleared on a tie
        logic signed [EXT_WIDTH-1:0] ext;
        logic tie;
        assign ext = EXT_WIDTH'(value);
        assign tie = ~|ext[DROP-1:0];
        assign moved = {ext[EXT_WIDTH-1:DROP+1], ext[DROP] & ~tie};
    end else if (DROP > 0) begin : g_round
        // round half to even: up when the first dropped bit (guard) is 1 and either a later dropped
        // bit (sticky) is 1 or the kept value is odd
        logic signed [EXT_WIDTH-1:0] ext;
        logic guard, sticky, round_up;
        assign ext = EXT_WIDTH'(value);
        assign guard = ext[DROP-1];
        if (DROP > 1) begin : g_sticky
            assign sticky = |ext[DROP-2:0];
        end else begin : g_no_sticky
            assign sticky = 1'b0;
        end
        assign round_up = guard & (sticky | ext[DROP]);
        // the kept bits have a spare sign bit, so adding the rounding step cannot overflow
        assign moved = ext[EXT_WIDTH-1:DROP] + MOVED_WIDTH'(round_up);
    end else begin : g_pad
        assign moved = MOVED_WIDTH'(value) <<< PAD;
    end

    assign wide = SAT_WIDTH'(moved);

    // saturation: the value fits when every bit above the output's range repeats its sign
    localparam logic [OUT_WIDTH-1:0] ONES = '1;
    if (OUT_SIGNED) begin : g_saturate_signed
        localparam logic [OUT_WIDTH-1:0] MAX = ONES >> 1;  // 0111..1
        logic [SAT_WIDTH-OUT_WIDTH:0] top;
        assign top = wide[SAT_WIDTH-1:OUT_WIDTH-1];
        assign data_out = (&top || ~|top) ? wide[OUT_WIDTH-1:0] : (top[SAT_WIDTH-OUT_WIDTH] ? ~MAX : MAX);
    end else begin : g_saturate_unsigned
        logic [SAT_WIDTH-OUT_WIDTH-1:0] top;
        assign top = wide[SAT_WIDTH-1:OUT_WIDTH];
        assign data_out = ~|top ? wide[OUT_WIDTH-1:0] : (top[SAT_WIDTH-OUT_WIDTH-1] ? '0 : ONES);
    end
endmodule
