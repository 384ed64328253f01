// The small design of tests/hardware/test_synth.py: two registered 4-term 8-bit constant dot
// products (one module, two instances), a ReLU module on their sum and an output register in the top.
module dot4 (
    input clk,
    input signed [7:0] x0, x1, x2, x3,
    output reg signed [17:0] y
);
    always @(posedge clk) y <= x0 * 8'sd37 + x1 * -8'sd91 + x2 * 8'sd113 + x3 * 8'sd5;
endmodule

module relu19 (
    input signed [18:0] a,
    output [17:0] y
);
    assign y = a[18] ? 18'd0 : a[17:0];
endmodule

module top (
    input clk,
    input signed [7:0] a0, a1, a2, a3,
    output reg [17:0] z
);
    wire signed [17:0] p, q;
    wire signed [18:0] s = p + q;
    wire [17:0] r;
    dot4 first (.clk(clk), .x0(a0), .x1(a1), .x2(a2), .x3(a3), .y(p));
    dot4 second (.clk(clk), .x0(a3), .x1(a2), .x2(a1), .x3(a0), .y(q));
    relu19 act (.a(s), .y(r));
    always @(posedge clk) z <= r;
endmodule
