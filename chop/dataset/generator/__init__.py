"""The JSC generator: Pythia 8 events -> leading anti-kT jet -> mMDT -> the 16 JSC features.

``generate(GeneratorOptions(...), workers)`` returns a ``GeneratedSample``; ``output`` writes parquet and
provenance. Pythia and FastJet are the optional ``physics`` extra; nothing here imports them at
module level, so the package works without them until generation is asked for.
"""

from chop.dataset.generator.detector import DetectorConfig
from chop.dataset.generator.jets import COLUMNS, EXTRAS, FEATURES, JetSelection
from chop.dataset.generator.processes import CLASSES, DECAY_ROUTES
from chop.dataset.generator.run import FIRST_SAMPLE_RECIPE, GeneratedSample, GeneratorOptions, generate

__all__ = ["CLASSES", "COLUMNS", "DECAY_ROUTES", "EXTRAS", "FEATURES", "FIRST_SAMPLE_RECIPE", "DetectorConfig", "GeneratedSample", "GeneratorOptions",
           "JetSelection", "generate"]
