"""The lab-2 notebook (lab-api §8) end to end: ``ch train`` on jsc-pythia, then the graph passes on the checkpoint."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from chop.cli import main


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lab2")
    assert main(["train", "jsc-tiny", "jsc-pythia", "--max-epochs", "1", "--batch-size", "256",
                 "--learning-rate", "1e-3", "--project-dir", str(out), "--project", "lab2"]) == 0
    path = out / "lab2" / "software" / "training_ckpts" / "best.ckpt"
    assert path.is_file()
    return path


def test_lab2_notebook_flow(checkpoint: Path, tmp_path: Path, capsys) -> None:
    from chop.dataset import MaseDataModule
    from chop.ir.graph.mase_graph import MaseGraph
    from chop.models import get_model, get_model_info
    from chop.passes import report_graph_analysis_pass
    from chop.passes.graph import (
        add_common_metadata_analysis_pass,
        add_software_metadata_analysis_pass,
        count_ops_analysis_pass,
        init_metadata_analysis_pass,
    )
    from chop.passes.graph.analysis import profile_statistics_analysis_pass, report_node_meta_param_analysis_pass
    from chop.passes.graph.interface import save_node_meta_param_interface_pass
    from chop.passes.graph.transforms import quantize_transform_pass, summarize_quantization_analysis_pass
    from chop.tools.checkpoint_load import load_model
    from chop.tools.get_input import InputGenerator
    from chop.tools.logger import set_logging_verbosity

    set_logging_verbosity("info")
    batch_size = 8
    data_module = MaseDataModule(name="jsc-pythia", batch_size=batch_size, model_name="jsc-tiny", num_workers=0)
    data_module.prepare_data()
    data_module.setup()
    model_info = get_model_info("jsc-tiny")
    model = get_model("jsc-tiny", task="cls", dataset_info=data_module.dataset_info, pretrained=False)
    model = load_model(load_name=str(checkpoint), load_type="pl", model=model)
    stored = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    assert torch.equal(model.seq_blocks[2].weight, stored["model.seq_blocks.2.weight"])

    input_generator = InputGenerator(data_module=data_module, model_info=model_info, task="cls", which_dataloader="train")
    dummy_in = next(iter(input_generator))
    _ = model(**dummy_in)

    mg = MaseGraph(model)
    mg, _ = init_metadata_analysis_pass(mg, None)
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": dummy_in, "add_value": False})
    mg, _ = add_software_metadata_analysis_pass(mg, None)
    _ = report_graph_analysis_pass(mg)
    assert ("Network overview:\n{'placeholder': 1, 'get_attr': 0, 'call_function': 0, 'call_method': 0, "
            "'call_module': 4, 'output': 1}") in capsys.readouterr().out

    pass_args = {
        "by": "type",
        "target_weight_nodes": ["linear"],
        "target_activation_nodes": ["relu"],
        "weight_statistics": {"variance_precise": {"device": "cpu", "dims": "all"}},
        "activation_statistics": {"range_quantile": {"device": "cpu", "dims": "all", "quantile": 0.97}},
        "input_generator": input_generator,
        "num_samples": 32,
    }
    mg, _ = profile_statistics_analysis_pass(mg, pass_args)
    mg, _ = report_node_meta_param_analysis_pass(mg, {"which": ("software",)})
    software = {n.name: n.meta["mase"].parameters["software"] for n in mg.nodes}
    weight_stat = software["seq_blocks_2"]["args"]["weight"]["stat"]["variance_precise"]
    weights = model.seq_blocks[2].weight.detach().double().numpy()
    assert weight_stat["count"] == 80 and weight_stat["variance"] == pytest.approx(weights.var(ddof=1), rel=1e-9)
    assert software["seq_blocks_2"]["args"]["bias"]["stat"]["variance_precise"]["count"] == 5
    assert software["seq_blocks_1"]["args"]["data_in_0"]["stat"]["range_quantile"]["count"] == 512
    assert software["seq_blocks_3"]["args"]["data_in_0"]["stat"]["range_quantile"]["count"] == 160
    low = software["seq_blocks_1"]["args"]["data_in_0"]["stat"]["range_quantile"]["min"]
    high = software["seq_blocks_1"]["args"]["data_in_0"]["stat"]["range_quantile"]["max"]
    assert np.isfinite([low, high]).all() and low < high

    save_node_meta_param_interface_pass(mg, {"save_path": str(tmp_path / "meta.toml")})
    saved = tomllib.loads((tmp_path / "meta.toml").read_text())
    assert saved["seq_blocks_1"]["software"]["args"]["data_in_0"]["stat"]["range_quantile"]["count"] == 512

    _, before = count_ops_analysis_pass(mg, {"verbose": False})
    quant_args = {"by": "type", "default": {"config": {"name": None}},
                  "linear": {"config": {"name": "integer", "data_in_width": 8, "data_in_frac_width": 4,
                                        "weight_width": 8, "weight_frac_width": 4, "bias_width": 8, "bias_frac_width": 4}}}
    ori_mg = MaseGraph(model=model)
    ori_mg, _ = init_metadata_analysis_pass(ori_mg, None)
    ori_mg, _ = add_common_metadata_analysis_pass(ori_mg, {"dummy_in": dummy_in})
    mg, _ = quantize_transform_pass(mg, quant_args)
    summarize_quantization_analysis_pass(ori_mg, mg, save_dir=str(tmp_path / "quantize_summary"))
    weight = mg.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]
    assert (weight["type"], weight["precision"]) == ("integer", [8, 4])
    _, after = count_ops_analysis_pass(mg, {"verbose": False})
    assert before["nodes"]["seq_blocks_2"]["bitops"] == 80 * 32 * 32
    assert after["nodes"]["seq_blocks_2"]["bitops"] == 80 * 8 * 8
