// fixed_delay: the pipeline register of a layer (STAGES = 1), a longer delay that lines up the
// operands of a join (STAGES > 1), or a plain wire (STAGES = 0, a combinational design).
// The valid bit is reset; the data registers are not (their value only counts while valid is high).
module fixed_delay #(
    parameter int WIDTH = 8,
    parameter int STAGES = 1
) (
    input  logic             clk,
    input  logic             rst,
    input  logic             in_valid,
    input  logic [WIDTH-1:0] in_data,
    output logic             out_valid,
    output logic [WIDTH-1:0] out_data
);
    if (STAGES == 0) begin : g_wire
        assign out_valid = in_valid;
        assign out_data = in_data;
        // lint waiver: a wire needs no clock or reset (Verilator ignores signals named *unused*)
        wire unused_clock = &{1'b0, clk, rst};
    end else if (STAGES == 1) begin : g_register
        always_ff @(posedge clk) begin
            out_valid <= rst ? 1'b0 : in_valid;
            out_data <= in_data;
        end
    end else begin : g_shift_register
        logic [STAGES-1:0] valid_q;
        logic [STAGES*WIDTH-1:0] data_q;  // stage s at [s*WIDTH +: WIDTH]
        always_ff @(posedge clk) begin
            valid_q <= rst ? '0 : {valid_q[STAGES-2:0], in_valid};
            data_q <= {data_q[(STAGES-1)*WIDTH-1:0], in_data};
        end
        assign out_valid = valid_q[STAGES-1];
        assign out_data = data_q[STAGES*WIDTH-1 -: WIDTH];
    end
endmodule
