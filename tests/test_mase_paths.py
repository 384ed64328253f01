"""Every MASE import path the labs and MASE's own tests use (lab-api §8, issue 10) is the working object.

Each entry names ``module:attribute`` and a check that calls the object on a tiny model or graph and
asserts a real value, or asserts identity with the canonical machop object. ``OTHERS`` lists paths
that other parts of issue 10 add (the quantise-pass internals, the toy models).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from chop.ir.graph.mase_metadata import TensorMeta


def resolve(path: str) -> Any:
    """``"pkg.module:name"`` → the attribute; ``"pkg.module"`` → the module."""
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def tiny_graph(hardware: bool = False) -> Any:
    """jsc-tiny with init + common + software (+ hardware) metadata, from a seeded batch of 4."""
    from chop.ir.graph.mase_graph import MaseGraph
    from chop.models import get_model
    from chop.passes.graph import (
        add_common_metadata_analysis_pass,
        add_hardware_metadata_analysis_pass,
        add_software_metadata_analysis_pass,
        init_metadata_analysis_pass,
    )

    torch.manual_seed(0)
    mg, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-tiny")))
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(4, 16)}})
    mg, _ = add_software_metadata_analysis_pass(mg)
    if hardware:
        mg, _ = add_hardware_metadata_analysis_pass(mg)
    return mg


def integer_reference(x: torch.Tensor, width: int, frac: int) -> torch.Tensor:
    scale = 2 ** frac
    return torch.clamp(torch.round(x * scale), -(2 ** (width - 1)), 2 ** (width - 1) - 1) / scale


INTEGER_LINEAR = {"by": "type", "default": {"config": {"name": None}},
                  "linear": {"config": {"name": "integer", "data_in_width": 8, "data_in_frac_width": 3,
                                        "weight_width": 8, "weight_frac_width": 3,
                                        "bias_width": 8, "bias_frac_width": 3}}}


def same_as(canonical: str) -> Callable[[Any], None]:
    def identical(obj: Any) -> None:
        assert obj is resolve(canonical)

    return identical


# --- lab-api §8 -------------------------------------------------------------------------------------

def check_data_module(cls: Any) -> None:
    assert cls is resolve("chop.dataset.datamodule:MaseDataModule")
    module = cls(name="jsc", batch_size=8, model_name="jsc-tiny", num_workers=0)
    assert (module.batch_size, module.dataset_info.num_classes, module.dataset_info.num_features) == (8, 5, 16)


def check_dataset_info(get_dataset_info: Any) -> None:
    info = get_dataset_info("jsc")
    assert (info.name, info.num_classes, info.num_features) == ("jsc", 5, 16)


def check_model_info(get_model_info: Any) -> None:
    assert get_model_info("jsc-tiny").input_shape == (16,)


def check_get_model(get_model: Any) -> None:
    assert list(inspect.signature(get_model).parameters) == [
        "name", "task", "dataset_info", "pretrained", "checkpoint", "quant_config"]
    model = get_model("jsc-tiny", task="cls", dataset_info=resolve("chop.dataset:get_dataset_info")("jsc"))
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 117


def check_set_logging_verbosity(set_logging_verbosity: Any) -> None:
    logger = logging.getLogger("chop")
    level, handlers, propagate = logger.level, list(logger.handlers), logger.propagate
    try:
        set_logging_verbosity("error")
        assert logger.level == logging.ERROR
    finally:
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def check_get_logger(get_logger: Any) -> None:
    assert get_logger("chop.passes") is logging.getLogger("chop.passes")


def check_input_generator(cls: Any) -> None:
    class Loaders:
        batch_size = 2

        def train_dataloader(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
            return [(torch.ones(2, 16), torch.zeros(2)), (torch.zeros(2, 16), torch.ones(2))]

    batches = list(cls(data_module=Loaders(), model_info=None, task="cls", which_dataloader="train"))
    assert [b["x"].sum().item() for b in batches] == [32.0, 0.0]


def check_load_model(load_model: Any, tmp_path: Any) -> None:
    from chop.models import get_model

    torch.manual_seed(3)
    source = get_model("jsc-tiny")
    torch.save(source.state_dict(), tmp_path / "w.pt")
    loaded = load_model(load_name=tmp_path / "w.pt", load_type="pt", model=get_model("jsc-tiny"))
    assert torch.equal(loaded.seq_blocks[2].weight, source.seq_blocks[2].weight)


def check_mase_graph(cls: Any) -> None:
    from chop.models import get_model

    assert [n.name for n in cls(get_model("jsc-tiny")).nodes] == [
        "x", "seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_3", "output"]


def check_report_graph(report_graph_analysis_pass: Any) -> None:
    _, info = report_graph_analysis_pass(tiny_graph(), {"file_name": None})
    assert info["network_overview"] == {"placeholder": 1, "get_attr": 0, "call_function": 0, "call_method": 0,
                                        "call_module": 4, "output": 1}


def check_common_metadata(add_common_metadata_analysis_pass: Any) -> None:
    weight = tiny_graph().node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]
    assert (weight["type"], weight["precision"], weight["shape"]) == ("float", [32], [5, 16])
    assert add_common_metadata_analysis_pass is resolve(
        "chop.passes.graph.analysis.add_common_metadata:add_common_metadata_analysis_pass")


def check_software_metadata(add_software_metadata_analysis_pass: Any) -> None:
    software = tiny_graph().node("seq_blocks_2").meta["mase"]["software"]
    assert sorted(software["args"]) == ["bias", "data_in_0", "weight"]
    assert add_software_metadata_analysis_pass is resolve(
        "chop.passes.graph.analysis.add_software_metadata:add_software_metadata_analysis_pass")


def check_meta_param_report(report_node_meta_param_analysis_pass: Any) -> None:
    _, info = report_node_meta_param_analysis_pass(tiny_graph(), {"which": ("software",), "save_path": None})
    assert "Software Param" in info["table"].splitlines()[1]


def check_profiler(profile_statistics_analysis_pass: Any) -> None:
    mg = tiny_graph()
    _, info = profile_statistics_analysis_pass(mg, {
        "by": "type", "target_weight_nodes": ["linear"], "target_activation_nodes": [],
        "weight_statistics": {"range_min_max": {"dims": "all"}}, "activation_statistics": {}})
    stat = info["weights"]["seq_blocks_2"]["weight"]["range_min_max"]
    assert (stat["min"], stat["count"]) == (pytest.approx(mg.modules["seq_blocks.2"].weight.min().item()), 80)


def check_quantize(quantize_transform_pass: Any) -> None:
    mg, info = quantize_transform_pass(tiny_graph(), INTEGER_LINEAR)
    assert info["quantized_nodes"] == ["seq_blocks_2"]
    assert mg.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]["precision"] == [8, 3]


def check_summarize(summarize_quantization_analysis_pass: Any) -> None:
    assert summarize_quantization_analysis_pass is resolve(
        "chop.passes.graph.transforms.summarize_quantization:summarize_quantization_analysis_pass")


def check_save_node_meta(save_node_meta_param_interface_pass: Any, tmp_path: Any) -> None:
    _, info = save_node_meta_param_interface_pass(tiny_graph(), str(tmp_path / "meta.toml"))
    assert "[seq_blocks_2" in (tmp_path / "meta.toml").read_text() and info["save_path"] == str(tmp_path / "meta.toml")


# --- issue 10: MASE's helpers, passes and module paths ---------------------------------------------

def check_parent_name(get_parent_name: Any) -> None:
    assert (get_parent_name("seq_blocks.2"), get_parent_name("fc")) == (("seq_blocks", "2"), ("", "fc"))


def check_deepcopy(deepcopy_mase_graph: Any) -> None:
    mg = tiny_graph()
    copy = deepcopy_mase_graph(mg)
    copy.node("seq_blocks_2").meta["mase"]["common"]["mase_op"] = "changed"
    assert mg.node("seq_blocks_2").meta["mase"]["common"]["mase_op"] == "linear"


def check_mase_op(get_mase_op: Any) -> None:
    assert [get_mase_op(n) for n in tiny_graph().nodes] == [
        "placeholder", "batch_norm1d", "relu", "linear", "relu", "output"]


def check_mase_type(get_mase_type: Any) -> None:
    assert get_mase_type(tiny_graph().node("seq_blocks_0")) == "module"


def check_actual_target(get_node_actual_target: Any) -> None:
    mg = tiny_graph()
    assert get_node_actual_target(mg.node("seq_blocks_2")) is mg.modules["seq_blocks.2"]


def check_verify(verify_common_metadata_analysis_pass: Any) -> None:
    _, info = verify_common_metadata_analysis_pass(tiny_graph())
    assert info == {"nodes": 6}


def check_hardware_report(report_node_hardware_type_analysis_pass: Any) -> None:
    _, info = report_node_hardware_type_analysis_pass(tiny_graph(hardware=True), {"save_path": None})
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in info["table"].splitlines()
            if line.startswith("| ")]
    assert ["seq_blocks_2", "call_module", "float", "INTERNAL", "-1"] in rows


def check_jsc_tiny(cls: Any) -> None:
    from chop.models import get_model

    assert type(get_model("jsc-tiny")) is cls
    assert sum(p.numel() for p in cls(None).parameters()) == 117


def check_class_of(model_name: str) -> Callable[[Any], None]:
    def registered_class(cls: Any) -> None:
        from chop.models import get_model

        assert type(get_model(model_name)) is cls

    return registered_class


def check_get_search_space_cls(get_search_space_cls: Any) -> None:
    from chop.search.config import parse_search_config

    cls = get_search_space_cls("graph/quantize/mixed_precision_ptq")
    assert cls is resolve("chop.actions.search.search_space:GraphSearchSpaceMixedPrecisionPTQ")
    table = {"search_space": {"name": "graph/quantize/mixed_precision_ptq", "setup": {"by": "type"},
                              "seed": {"linear": {"config": {"name": ["integer"], "data_in_width": [4, 8],
                                                             "weight_width": [2, 4, 8], "bias_width": [8]}}}},
             "strategy": {"setup": {"n_trials": 1}, "hw_runner": {"average_bitwidth": {"compare_to": 32}},
                          "metrics": {"average_bitwidth": {"direction": "minimize"}}}}
    space = cls(parse_search_config(table, "t.toml").space, tiny_graph(), "t.toml")
    assert space.choice_lengths_flattened == {"seq_blocks_2/config/name": 1, "seq_blocks_2/config/data_in_width": 2,
                                              "seq_blocks_2/config/weight_width": 3, "seq_blocks_2/config/bias_width": 1}
    assert space.size == 6
    assert isinstance(space, resolve("chop.actions.search.search_space:SearchSpaceBase"))


def check_get_search_strategy_cls(get_search_strategy_cls: Any) -> None:
    assert get_search_strategy_cls("optuna") is resolve("chop.actions.search.strategies.optuna:SearchStrategyOptuna")
    assert issubclass(get_search_strategy_cls("brute_force"), resolve("chop.actions.search.strategies:SearchStrategyBase"))


def check_search_runners(runners: Any) -> None:
    assert runners.average_bitwidth(tiny_graph(), 32) == {"average_bitwidth": 32.0, "memory_density": 1.0}  # float


OWN: list[tuple[str, Callable[..., None]]] = [
    ("chop.dataset:MaseDataModule", check_data_module),
    ("chop.dataset:get_dataset_info", check_dataset_info),
    ("chop.models:get_model_info", check_model_info),
    ("chop.models:get_model", check_get_model),
    ("chop.tools.logger:set_logging_verbosity", check_set_logging_verbosity),
    ("chop.tools.logger:get_logger", check_get_logger),
    ("chop.tools.get_input:InputGenerator", check_input_generator),
    ("chop.tools.checkpoint_load:load_model", check_load_model),
    ("chop.ir.graph.mase_graph:MaseGraph", check_mase_graph),
    ("chop.passes:report_graph_analysis_pass", check_report_graph),
    ("chop.passes.graph:init_metadata_analysis_pass",
     same_as("chop.passes.graph.analysis.init_metadata:init_metadata_analysis_pass")),
    ("chop.passes.graph:add_common_metadata_analysis_pass", check_common_metadata),
    ("chop.passes.graph:add_software_metadata_analysis_pass", check_software_metadata),
    ("chop.passes.graph.analysis:report_node_meta_param_analysis_pass", check_meta_param_report),
    ("chop.passes.graph.analysis:profile_statistics_analysis_pass", check_profiler),
    ("chop.passes.graph.transforms:quantize_transform_pass", check_quantize),
    ("chop.passes.graph.transforms:summarize_quantization_analysis_pass", check_summarize),
    ("chop.passes.graph.interface:save_node_meta_param_interface_pass", check_save_node_meta),
    ("chop.passes.graph.utils:get_parent_name", check_parent_name),
    ("chop.passes.graph.utils:deepcopy_mase_graph", check_deepcopy),
    ("chop.passes.graph.utils:get_mase_op", check_mase_op),
    ("chop.passes.graph.utils:get_mase_type", check_mase_type),
    ("chop.passes.graph.utils:get_node_actual_target", check_actual_target),
    ("chop.passes.graph.analysis:verify_common_metadata_analysis_pass", check_verify),
    ("chop.passes.graph:verify_common_metadata_analysis_pass",
     same_as("chop.passes.graph.analysis:verify_common_metadata_analysis_pass")),
    ("chop.passes:verify_common_metadata_analysis_pass",
     same_as("chop.passes.graph.analysis:verify_common_metadata_analysis_pass")),
    ("chop.passes.graph.analysis:report_node_hardware_type_analysis_pass", check_hardware_report),
    ("chop.passes.graph:report_node_hardware_type_analysis_pass",
     same_as("chop.passes.graph.analysis:report_node_hardware_type_analysis_pass")),
    ("chop.passes:report_node_hardware_type_analysis_pass",
     same_as("chop.passes.graph.analysis:report_node_hardware_type_analysis_pass")),
    *[(f"chop.passes.graph.analysis.report:{name}", same_as(f"chop.passes.graph:{name}"))
      for name in ("report_graph_analysis_pass", "report_node_hardware_type_analysis_pass",
                   "report_node_meta_param_analysis_pass", "report_node_shape_analysis_pass",
                   "report_node_type_analysis_pass")],
    ("chop.passes.graph.analysis.statistical_profiler:profile_statistics_analysis_pass",
     same_as("chop.passes.graph:profile_statistics_analysis_pass")),
    ("chop.models.physical.jet_substructure:JSC_Tiny", check_jsc_tiny),
    ("chop.models.physical.jet_substructure:JSC_Toy", check_class_of("jsc-toy")),
    ("chop.models.physical.jet_substructure:JSC_S", check_class_of("jsc-s")),
    ("chop.dataset.physical.jsc:MaseDataModule", same_as("chop.dataset:MaseDataModule")),
    ("chop.dataset.physical.jsc:get_dataset_info", check_dataset_info),
    ("chop.dataset.physical.jsc:load_dataset", same_as("chop.dataset:load_dataset")),
    ("chop.actions.search.search_space:SearchSpaceBase", same_as("chop.search.space_base:SearchSpaceBase")),
    ("chop.actions.search.search_space:get_search_space_cls", check_get_search_space_cls),
    ("chop.actions.search.strategies:SearchStrategyBase", same_as("chop.search.strategy_base:SearchStrategyBase")),
    ("chop.actions.search.strategies:get_search_strategy_cls", check_get_search_strategy_cls),
    ("chop.actions.search.strategies.optuna:SearchStrategyOptuna", same_as("chop.search.strategy:Search")),
    ("chop.actions.search.strategies.runners", check_search_runners),
]


# --- added by the other parts of issue 10 (they fail here until those are merged) -------------------

def check_quantized_modules(module: Any) -> None:
    assert issubclass(module.LinearInteger, nn.Linear)


def check_integer_quantizer(integer_quantizer: Any) -> None:
    x = torch.tensor([0.3, 0.0625, 100.0, -100.0])
    assert torch.equal(integer_quantizer(x, 8, 3), integer_reference(x, 8, 3))
    assert integer_quantizer(x, 8, 3).tolist() == [0.25, 0.0, 15.875, -16.0]


def check_linear_integer(cls: Any) -> None:
    from chop.models import get_model

    model = get_model("jsc-tiny", quant_config=INTEGER_LINEAR)
    assert type(model.get_submodule("seq_blocks.2")) is cls


def check_w_quantizer(cls: Any) -> None:
    from chop.models import get_model

    linear = get_model("jsc-tiny", quant_config=INTEGER_LINEAR).get_submodule("seq_blocks.2")
    assert isinstance(linear, cls)
    assert torch.equal(linear.w_quantizer(linear.weight), integer_reference(linear.weight, 8, 3))


OTHERS: list[tuple[str, Callable[..., None]]] = [
    ("chop.passes.graph.transforms.quantize:quantize_transform_pass",
     same_as("chop.passes.graph.transforms:quantize_transform_pass")),
    ("chop.passes.graph.transforms.quantize.quantized_modules", check_quantized_modules),
    ("chop.passes.graph.transforms.quantize.quantizers:integer_quantizer", check_integer_quantizer),
    ("chop.passes.graph.transforms.quantize.quantized_modules.linear:LinearInteger", check_linear_integer),
    ("chop.passes.graph.transforms.quantize.quantized_modules.linear:LinearInteger", check_w_quantizer),
    ("chop.models.toys.toy:ToyNet", check_class_of("toy")),
    ("chop.models.toys.toy_custom_fn:ToyCustomFnNet", check_class_of("toy_custom_fn")),
]


def _run(check: Callable[..., None], obj: Any, tmp_path: Any) -> None:
    if "tmp_path" in inspect.signature(check).parameters:
        check(obj, tmp_path=tmp_path)
    else:
        check(obj)


@pytest.mark.parametrize("path, check", OWN, ids=[path for path, _ in OWN])
def test_mase_path(path: str, check: Callable[..., None], tmp_path: Any) -> None:
    _run(check, resolve(path), tmp_path)


@pytest.mark.parametrize("path, check", OTHERS, ids=[f"{path}[{check.__name__}]" for path, check in OTHERS])
def test_mase_path_added_elsewhere(path: str, check: Callable[..., None], tmp_path: Any) -> None:
    _run(check, resolve(path), tmp_path)
